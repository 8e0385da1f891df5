"""The web and API security suite: ownership, CSRF, escaping, redirects, login guessing, cookies.

Every URL the resolver knows is listed in ROUTES with how it is protected, so
a new URL fails ``test_every_url_is_classified`` until someone decides what it
needs (see docs/SECURITY.md).
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from bookmarks.models import AccessToken, Bookmark, ImportJob, Tag
from bookmarks.tokens import token_for
from bookmarks.web import login_limit
from imgateway.linking import start_link
from imgateway.models import LinkCode, LinkedJid
from tests.conftest import live_database_url, make_bookmark
from tests.test_deploy import production_env

ROOT = Path(__file__).resolve().parents[2]

# route -> how it is protected. "object": takes another user's object id in
# the path (404 for it, tested below); "session": login or public page, CSRF
# on POST; "token": authenticated by a token or password in the request, not
# by the session, so CSRF does not apply (a cross-site page cannot add the
# token); "django": Django's own views (auth, admin), CSRF on POST.
ROUTES = {
    "": "session",
    "healthz": "session",
    "manifest/<str:language>.webmanifest": "session",  # the web app manifest: the same for everyone
    "accounts/signup/": "session",
    "accounts/login/": "session",
    "accounts/logout/": "django",
    "accounts/password_change/": "django",
    "accounts/password_change/done/": "django",
    "accounts/password_reset/": "django",
    "accounts/password_reset/done/": "django",
    "accounts/reset/<uidb64>/<token>/": "django",
    "accounts/reset/done/": "django",
    "bookmarks/": "session",
    "bookmarks/add/": "session",
    "bookmarks/share/": "session",
    "bookmarks/live/": "session",
    "bookmarks/bulk/": "session",
    "bookmarks/tags/": "session",
    "bookmarks/tags/merge/": "session",
    "bookmarks/tags/<int:tag_id>/rename/": "object",
    "bookmarks/tags/<int:tag_id>/delete/": "object",
    "bookmarks/import/": "session",
    "bookmarks/import/<int:job_id>/": "object",
    "bookmarks/import/<int:job_id>/status/": "object",
    "bookmarks/export/": "session",
    "bookmarks/<int:bookmark_id>/edit/": "object",
    "bookmarks/<int:bookmark_id>/delete/": "object",
    "bookmarks/<int:bookmark_id>/refresh/": "object",
    "bookmarks/<int:bookmark_id>/read/": "object",
    "bookmarks/<int:bookmark_id>/check/": "object",
    "bookmarks/<int:bookmark_id>/relink/": "object",
    "bookmarks/<int:bookmark_id>/unread/": "object",
    "bookmarks/icons/<str:host>.png": "session",  # a site's icon: the same for every signed-in user
    "settings/": "session",
    "settings/time-zone/": "session",
    "settings/page-text/": "session",
    "i18n/setlang/": "session",
    "i18n/js/": "session",  # Django's JavaScript catalog: the same for everyone
    "settings/im/": "session",
    "settings/im/unlink/": "session",
    "settings/im/busy/": "session",
    "settings/im/status/": "session",
    "settings/im/qr/<int:code_id>.svg": "object",
    "api/bookmarks/": "session",  # DRF: token, or the session with CSRF enforced
    "api/bookmarks/<int:pk>/": "object",
    "api/tags/": "session",
    "api/": "session",  # the API root: links only, open to all
    "api/schema/": "session",
    "api/docs/": "session",
    "feeds/<str:token>/rss/": "token",
    "feeds/<str:token>/atom/": "token",
    "settings/tokens/<str:kind>/regenerate/": "session",
    "admin/": "django",
}
ROUTES.update(
    {
        f"api/v1/{name}{slash}": "token"
        for name in (
            "posts/update",
            "posts/add",
            "posts/delete",
            "posts/get",
            "posts/recent",
            "posts/all",
            "posts/dates",
            "posts/suggest",
            "tags/get",
            "tags/delete",
            "tags/rename",
            "user/secret",
            "user/api_token",
            "notes/list",
            "notes/<str:note_id>",
        )
        for slash in ("", "/")
    }
)

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "http://testserver@evil.example/",
    " //evil.example/",
    "/%0a/evil.example/",
]


def all_routes() -> list[str]:
    """Every route the URL resolver serves; the admin counts as one."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    found.append(prefix + str(entry.pattern))
                else:
                    walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return found


def concrete(route: str, owner) -> str:
    """The route with its parameters filled with ``owner``'s objects."""
    bookmark = Bookmark.objects.filter(owner=owner).first() or make_bookmark(owner, title="Theirs")
    tag = Tag.objects.filter(owner=owner).first() or Tag.objects.create(owner=owner, name="theirs")
    job = ImportJob.objects.filter(owner=owner).first() or ImportJob.objects.create(owner=owner, file_name="x.html")
    code = LinkCode.objects.filter(user=owner).first() or start_link(owner, f"{owner.username}@example.net")
    values = {
        "code_id": code.pk,
        "bookmark_id": bookmark.pk,
        "tag_id": tag.pk,
        "job_id": job.pk,
        "pk": bookmark.pk,
        "token": token_for(owner, AccessToken.Kind.FEED),
        "kind": AccessToken.Kind.FEED,
        "uidb64": "MQ",
        "language": "en",
        "note_id": "1",
        "host": "example.com",
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


@pytest.fixture
def limit_prefix(_login_limit_prefix):
    return _login_limit_prefix


# -- the URL inventory ---------------------------------------------------------


def test_every_url_is_classified():
    assert sorted(set(all_routes())) == sorted(ROUTES)


# -- another user's object is a 404 --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", [route for route, kind in ROUTES.items() if kind == "object"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_another_users_object_is_not_found(route, method, user, other_user):
    path = concrete(route, other_user)
    theirs = Bookmark.objects.get(owner=other_user)
    if route.startswith("api/"):
        client = Client(HTTP_AUTHORIZATION=f"Token {token_for(user, AccessToken.Kind.API)}")
    else:
        client = Client()
        client.force_login(user)
    data = {"url": "https://example.com/stolen", "title": "mine now", "name": "mine"}
    if method in ("put", "patch"):
        response = getattr(client, method)(path, json.dumps(data), content_type="application/json")
    else:
        response = getattr(client, method)(path, data)
    # 405: the path does not take that method at all, for anyone.
    assert response.status_code in (404, 405), (method, path, response.status_code)
    if method == "get" or response.status_code == 404:
        assert b"Theirs" not in response.content
    theirs.refresh_from_db()
    assert theirs.title == "Theirs" and theirs.url != "https://example.com/stolen"
    assert Tag.objects.filter(owner=other_user, name="theirs").exists()


@pytest.mark.django_db
def test_bulk_actions_ignore_another_users_ids(alice_client, other_user):
    theirs = make_bookmark(other_user, title="Theirs")
    alice_client.post("/bookmarks/bulk/", {"action": "delete", "ids": [theirs.pk]})
    alice_client.post("/bookmarks/bulk/", {"action": "add_tag", "ids": [theirs.pk], "tag": "pwned"})
    assert Bookmark.objects.filter(pk=theirs.pk).exists()
    assert not Tag.objects.filter(name="pwned", owner=other_user).exists()


@pytest.mark.django_db
def test_merging_cannot_take_another_users_tags(alice_client, user, other_user):
    mine = Tag.objects.create(owner=user, name="mine")
    theirs = Tag.objects.create(owner=other_user, name="theirs")
    alice_client.post("/bookmarks/tags/merge/", {"tags": [theirs.pk, mine.pk], "target": "mine"})
    assert Tag.objects.filter(pk=theirs.pk, owner=other_user).exists()


@pytest.mark.django_db
def test_unlinking_cannot_remove_another_users_chat_address(alice_client, other_user):
    LinkedJid.objects.create(jid="mallory@example.org", user=other_user)
    alice_client.post("/settings/im/unlink/", {"jid": "mallory@example.org"})
    assert LinkedJid.objects.filter(jid="mallory@example.org", user=other_user).exists()


@pytest.mark.django_db
def test_pinboard_cannot_read_or_delete_another_users_bookmark(client, user, other_user):
    theirs = make_bookmark(other_user, "https://example.com/theirs", title="Theirs")
    auth = f"{user.username}:{token_for(user, AccessToken.Kind.API)}"
    got = client.get("/api/v1/posts/get", {"url": theirs.url, "auth_token": auth, "format": "json"})
    assert got.status_code == 200 and json.loads(got.content)["posts"] == []
    client.get("/api/v1/posts/delete", {"url": theirs.url, "auth_token": auth})
    assert Bookmark.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_an_api_token_does_not_open_a_feed(client, user):
    make_bookmark(user, title="Secret")
    assert client.get(f"/feeds/{token_for(user, AccessToken.Kind.API)}/rss/").status_code == 404


# -- CSRF ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", [route for route, kind in ROUTES.items() if kind != "token"])
def test_a_post_without_a_csrf_token_is_refused(route, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    path = concrete(route, user)
    before = Bookmark.objects.filter(owner=user).count()
    response = client.post(path, {"url": "https://example.com/forged", "action": "delete", "ids": "1"})
    assert response.status_code == 403, (path, response.status_code)
    assert Bookmark.objects.filter(owner=user).count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/posts/add", "/api/v1/posts/delete"])
def test_token_apis_ignore_the_session_so_a_forged_request_does_nothing(path, user):
    """The Pinboard API is CSRF-exempt by design: it never authenticates by the session cookie."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    kept = make_bookmark(user, "https://example.com/kept")
    response = client.post(path, {"url": "https://example.com/forged", "description": "x"})
    assert response.status_code in (401, 403)
    response = client.get(path, {"url": kept.url, "description": "x"})
    assert response.status_code in (401, 403)
    assert list(Bookmark.objects.filter(owner=user).values_list("url", flat=True)) == [kept.url]


# -- escaping ------------------------------------------------------------------


@pytest.fixture
def hostile_bookmark(user):
    """A bookmark whose fetched and typed text is all markup."""
    return make_bookmark(
        user,
        "https://example.com/hostile",
        page_title=HOSTILE,
        description=HOSTILE,
        site_name=HOSTILE,
        note=HOSTILE,
        tags=["x<b>y"],
        status=Bookmark.Status.OK,
    )


def assert_escaped(content: bytes) -> None:
    text = content.decode()
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text
    assert "<b>y" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/bookmarks/", "/bookmarks/?q=hostile", "/bookmarks/{id}/edit/", "/bookmarks/{id}/delete/"]
)
def test_fetched_and_typed_text_is_escaped_in_pages(alice_client, hostile_bookmark, path):
    response = alice_client.get(path.format(id=hostile_bookmark.pk))
    assert response.status_code == 200
    assert_escaped(response.content)
    assert "&lt;script&gt;" in response.content.decode()


@pytest.mark.django_db
def test_fetched_text_is_escaped_in_live_updates(alice_client, hostile_bookmark):
    response = alice_client.get("/bookmarks/live/", {"since": "2000-01-01T00:00:00+00:00"})
    items = json.loads(response.content)["items"]
    assert items and all("<script>alert(1)" not in item["html"] for item in items)


@pytest.mark.django_db
def test_tag_names_are_escaped_on_the_tags_page(alice_client, hostile_bookmark):
    assert_escaped(alice_client.get("/bookmarks/tags/").content)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_fetched_text_stays_text_in_feeds(client, user, hostile_bookmark, kind):
    response = client.get(f"/feeds/{token_for(user, AccessToken.Kind.FEED)}/{kind}/")
    assert response.status_code == 200
    assert_escaped(response.content)
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own server's reply)
    titles = [element.text or "" for element in root.iter() if element.tag.endswith("title")]
    assert any(HOSTILE in title for title in titles)


@pytest.mark.django_db
def test_fetched_text_is_escaped_in_the_export(alice_client, hostile_bookmark):
    response = alice_client.get("/bookmarks/export/")
    assert_escaped(b"".join(response.streaming_content))


@pytest.mark.django_db
def test_a_saved_message_escapes_the_typed_title(alice_client):
    response = alice_client.post("/bookmarks/add/", {"url": "https://example.com/t", "title": HOSTILE}, follow=True)
    assert_escaped(response.content)


# -- next= stays on the site ---------------------------------------------------


def assert_on_site(response) -> None:
    assert response.status_code in (301, 302), response.status_code
    location = response["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "testserver"), location
    assert not location.lstrip().startswith(("//", "/\\", "\\")), location


@pytest.mark.django_db
@pytest.mark.parametrize("target", HOSTILE_NEXT)
@pytest.mark.parametrize("view", ["add", "edit", "delete", "refresh", "check", "relink", "bulk", "setlang"])
def test_next_never_leaves_the_site(alice_client, user, view, target):
    bookmark = make_bookmark(user)
    path, data = {
        "add": ("/bookmarks/add/", {"url": "https://example.com/n"}),
        "edit": (f"/bookmarks/{bookmark.pk}/edit/", {"url": bookmark.url}),
        "delete": (f"/bookmarks/{bookmark.pk}/delete/", {}),
        "refresh": (f"/bookmarks/{bookmark.pk}/refresh/", {}),
        "check": (f"/bookmarks/{bookmark.pk}/check/", {}),
        "relink": (f"/bookmarks/{bookmark.pk}/relink/", {}),
        "bulk": ("/bookmarks/bulk/", {"action": "add_tag", "ids": [bookmark.pk], "tag": "t"}),
        "setlang": ("/i18n/setlang/", {"language": "en"}),
    }[view]
    assert_on_site(alice_client.post(path, {**data, "next": target}))


@pytest.mark.django_db
@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_next_never_leaves_the_site(client, user, target, limit_prefix):
    response = client.post(
        "/accounts/login/?next=" + target, {"username": "alice", "password": "correct horse battery", "next": target}
    )
    assert_on_site(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bookmarks/add/", "/bookmarks/{id}/edit/", "/bookmarks/{id}/delete/"])
def test_forms_do_not_carry_a_foreign_next(alice_client, user, path):
    bookmark = make_bookmark(user)
    response = alice_client.get(path.format(id=bookmark.pk), {"next": "https://evil.example/"})
    # The language switcher carries this page's own path (query included) as its next.
    values = re.findall(r'name="next" value="([^"]*)"', response.content.decode())
    assert values and all(value == "" or value.startswith("/") for value in values), values


@pytest.mark.django_db
def test_an_on_site_next_is_followed(alice_client, user):
    response = alice_client.post("/bookmarks/add/", {"url": "https://example.com/n", "next": "/bookmarks/?tag=a"})
    assert response["Location"] == "/bookmarks/?tag=a"


# -- login guessing ------------------------------------------------------------


def login(client: Client, password: str, address: str = "127.0.0.1"):
    return client.post("/accounts/login/", {"username": "alice", "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_that_address(client, user, limit_prefix):
    for _ in range(login_limit.FAILURE_LIMIT):
        assert login(client, "guess").status_code == 200
    response = login(client, "correct horse battery")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_does_not_reach_other_addresses(client, user, limit_prefix):
    for _ in range(login_limit.FAILURE_LIMIT):
        login(client, "guess", address="127.0.0.9")
    assert login(client, "correct horse battery", address="127.0.0.1").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_the_count(client, user, limit_prefix):
    for _ in range(login_limit.FAILURE_LIMIT - 1):
        login(client, "guess")
    assert login(client, "correct horse battery").status_code == 302
    client.logout()
    for _ in range(login_limit.FAILURE_LIMIT - 1):
        login(client, "guess")
    assert login(client, "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_pinboard_basic_auth_shares_the_login_limit(client, user, limit_prefix):
    import base64

    def basic(password: str):
        raw = base64.b64encode(f"alice:{password}".encode()).decode()
        return client.get("/api/v1/user/api_token", HTTP_AUTHORIZATION=f"Basic {raw}")

    for _ in range(login_limit.FAILURE_LIMIT):
        assert basic("guess").status_code in (401, 403)
    assert basic("correct horse battery").status_code in (401, 403)
    assert login(client, "correct horse battery").status_code == 429


# -- cookies in production -----------------------------------------------------

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
get_user_model().objects.create_user("cookie-probe", password="correct horse battery")
with override_settings(
    STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
    LOGIN_LIMIT_PREFIX="favsite-test:login:probe",
):
    client = Client(HTTP_HOST="favsite.example.org")
    plain = client.get("/accounts/login/")
    page = client.get("/accounts/login/", secure=True)
    done = client.post(
        "/accounts/login/", {"username": "cookie-probe", "password": "correct horse battery"}, secure=True
    )
cookies = {**page.cookies, **done.cookies}
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "cookies": {name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]), "samesite": c["samesite"]}
                for name, c in cookies.items()},
}))
"""


@pytest.mark.django_db(transaction=True)
def test_session_and_csrf_cookies_are_secure_in_production():
    env = production_env(DJANGO_SETTINGS_MODULE="favsite.settings", DATABASE_URL=live_database_url())
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["plain"][0] == 301 and report["plain"][1].startswith("https://")
    cookies = report["cookies"]
    assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httponly"]
    assert cookies["csrftoken"]["secure"]
    assert cookies["sessionid"]["samesite"] == "Lax"


@pytest.mark.django_db
def test_a_nul_in_a_search_is_no_server_error(alice_client, user, client):
    """PostgreSQL refuses NUL in a parameter; found by the chat fuzz test (``find \\x00``)."""
    make_bookmark(user, title="Something")
    assert alice_client.get("/bookmarks/", {"q": "a\x00b"}).status_code == 200
    api = Client(HTTP_AUTHORIZATION=f"Token {token_for(user, AccessToken.Kind.API)}")
    assert api.get("/api/bookmarks/", {"q": "\x00"}).status_code == 200
    assert client.get(f"/feeds/{token_for(user, AccessToken.Kind.FEED)}/rss/", {"q": "\x00"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_control_characters_in_a_query_or_a_bookmark_do_not_break_the_feed(client, user, kind):
    make_bookmark(user, title="bell\x07title", note="nul\x01note", tags=["t"])
    url = f"/feeds/{token_for(user, AccessToken.Kind.FEED)}/{kind}/"
    assert client.get(url, {"q": "\x01", "tag": "\x02"}).status_code == 200
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_admin_login_shares_the_login_limit(client, limit_prefix):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.org", "correct horse battery")

    def admin_login(password: str):
        return client.post("/admin/login/?next=/admin/", {"username": "root", "password": password})

    for _ in range(login_limit.FAILURE_LIMIT):
        assert admin_login("guess").status_code == 200
    response = admin_login("correct horse battery")
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_behind_a_trusted_proxy_a_guesser_elsewhere_does_not_lock_the_owner_out(client, user, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]

    def via_proxy(client_address: str, password: str):
        data = {"username": "alice", "password": password}
        return client.post("/accounts/login/", data, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_address)

    for _ in range(login_limit.FAILURE_LIMIT):
        via_proxy("203.0.113.9", "guess")
    assert via_proxy("203.0.113.9", "correct horse battery").status_code == 429
    assert via_proxy("198.51.100.7", "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_x_forwarded_for_from_an_untrusted_address_is_ignored(client, user, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    for n in range(login_limit.FAILURE_LIMIT):
        login_forged = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}", "REMOTE_ADDR": "203.0.113.9"}
        client.post("/accounts/login/", {"username": "alice", "password": "guess"}, **login_forged)
    assert login(client, "correct horse battery", address="203.0.113.9").status_code == 429


@pytest.mark.django_db
def test_one_address_guessing_across_usernames_is_locked_for_all_of_them(client, user):
    for n in range(login_limit.ADDRESS_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": f"someone{n}", "password": "guess"}, REMOTE_ADDR="203.0.113.5")
    assert login(client, "correct horse battery", address="203.0.113.5").status_code == 429
    assert login(client, "correct horse battery", address="203.0.113.6").status_code == 302


@pytest.mark.django_db
def test_sign_up_is_limited_per_address(client):
    def sign_up(n: int):
        password = "a-long-passphrase-42"
        data = {"username": f"new{n}", "password1": password, "password2": password}
        return client.post("/accounts/signup/", data, REMOTE_ADDR="203.0.113.7")

    for n in range(login_limit.SIGNUP_LIMIT):
        assert sign_up(n).status_code == 302
        client.logout()
    refused = sign_up(99)
    assert refused.status_code == 429
    assert "Too many accounts" in refused.content.decode()

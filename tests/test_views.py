"""The bookmark pages and accounts, through Django's test client."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db

PROTECTED_PAGES = ["/bookmarks/", "/bookmarks/add/", "/settings/", "/accounts/password_change/"]


def test_landing_page_explains_the_service_to_a_stranger(client):
    page = client.get("/").content.decode()
    assert "Send a link from chat" in page
    assert 'href="/accounts/signup/"' in page


def test_landing_page_sends_a_logged_in_user_to_their_list(alice_client):
    assert alice_client.get("/").url == "/bookmarks/"


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_bookmark_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_signup_creates_an_account_and_logs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 302
    assert client.get("/bookmarks/").status_code == 200


def test_login_and_logout(client, user):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.url == "/bookmarks/"
    client.post("/accounts/logout/")
    assert client.get("/bookmarks/").status_code == 302


def test_password_change(alice_client, user):
    response = alice_client.post(
        "/accounts/password_change/",
        {
            "old_password": "correct horse battery",
            "new_password1": "another-passphrase-7",
            "new_password2": "another-passphrase-7",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-passphrase-7")


def test_list_shows_newest_first(alice_client, user):
    make_bookmark(user, "https://example.com/older", title="Older one")
    make_bookmark(user, "https://example.com/newer", title="Newer one")
    page = alice_client.get("/bookmarks/").content.decode()
    assert page.index("Newer one") < page.index("Older one")


def test_list_shows_only_the_users_own_bookmarks(alice_client, user, other_user):
    make_bookmark(user, title="Mine")
    make_bookmark(other_user, title="Not mine")
    page = alice_client.get("/bookmarks/").content.decode()
    assert "Mine" in page and "Not mine" not in page


def test_list_is_paginated(alice_client, user):
    for number in range(55):
        make_bookmark(user, f"https://example.com/{number}", title=f"Bookmark number {number}")
    first = alice_client.get("/bookmarks/").content.decode()
    second = alice_client.get("/bookmarks/?page=2").content.decode()
    assert "Bookmark number 54<" in first and "Bookmark number 4<" not in first
    assert "Bookmark number 4<" in second and "Page 2 of 2" in second


def test_tag_filter_ignores_case(alice_client, user):
    make_bookmark(user, title="Tagged", tags="Python")
    make_bookmark(user, title="Untagged")
    items = alice_client.get("/bookmarks/?tag=python").context["items"]
    assert [item.title for item in items] == ["Tagged"]


def test_search_ands_words_over_title_url_and_note(alice_client, user):
    make_bookmark(user, "https://docs.example.com/django", title="Framework guide", note="read later")
    make_bookmark(user, "https://example.com/other", title="Framework news")
    page = alice_client.get("/bookmarks/?q=framework+DJANGO").content.decode()
    assert "Framework guide" in page and "Framework news" not in page


def test_search_keeps_the_query_in_the_box(alice_client):
    page = alice_client.get("/bookmarks/?q=收藏").content.decode()
    assert 'value="收藏"' in page


def test_empty_search_result_says_so(alice_client, user):
    make_bookmark(user, title="Something")
    assert "Nothing matches" in alice_client.get("/bookmarks/?q=zzz").content.decode()


def test_list_query_count_does_not_grow_with_bookmarks(alice_client, user, django_assert_max_num_queries):
    for number in range(3):
        make_bookmark(user, f"https://example.com/{number}", tags="a b")
    with django_assert_max_num_queries(10) as few:
        alice_client.get("/bookmarks/")
    for number in range(3, 40):
        make_bookmark(user, f"https://example.com/{number}", tags="a b c")
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get("/bookmarks/")


def test_a_title_with_script_is_shown_escaped(alice_client, user):
    make_bookmark(user, title="<script>alert('x')</script>", note="<b>bold</b>")
    page = alice_client.get("/bookmarks/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "<b>bold</b>" not in page


def test_add_form_is_prefilled_from_get_parameters(alice_client):
    page = alice_client.get("/bookmarks/add/", {"url": "https://example.com/x", "title": "Shared title", "tags": "a b"})
    html = page.content.decode()
    assert 'value="https://example.com/x"' in html
    assert 'value="Shared title"' in html
    assert 'value="a b"' in html


def test_adding_saves_a_bookmark_with_tags(alice_client, user):
    response = alice_client.post(
        "/bookmarks/add/", {"url": "https://example.com/新闻", "title": "中文标题", "tags": "新闻, 中文", "note": ""}
    )
    assert response.status_code == 302
    bookmark = Bookmark.objects.get(owner=user)
    assert bookmark.title == "中文标题"
    assert sorted(t.name for t in bookmark.tags.all()) == ["中文", "新闻"]


def test_adding_without_a_scheme_assumes_https(alice_client, user):
    alice_client.post("/bookmarks/add/", {"url": "example.com/page"})
    assert Bookmark.objects.get(owner=user).url == "https://example.com/page"


def test_adding_a_non_http_link_shows_a_clear_error(alice_client, user):
    response = alice_client.post("/bookmarks/add/", {"url": "ftp://example.com/file"})
    assert response.status_code == 200
    assert "Only http and https links can be saved" in response.content.decode()
    assert not Bookmark.objects.exists()


def test_adding_a_known_url_says_already_saved(alice_client, user):
    make_bookmark(user, "https://example.com/post")
    response = alice_client.post("/bookmarks/add/", {"url": "https://example.com/post/"}, follow=True)
    assert "Already saved on" in response.content.decode()
    assert Bookmark.objects.filter(owner=user).count() == 1


def test_add_redirects_to_next_only_within_the_site(alice_client):
    inside = alice_client.post("/bookmarks/add/", {"url": "https://example.com/1", "next": "/bookmarks/?tag=a"})
    outside = alice_client.post("/bookmarks/add/", {"url": "https://example.com/2", "next": "https://evil.example/"})
    assert inside.url == "/bookmarks/?tag=a"
    assert outside.url == "/bookmarks/"


def test_edit_changes_title_tags_and_note(alice_client, user):
    bookmark = make_bookmark(user, "https://example.com/a", tags="old")
    alice_client.post(
        f"/bookmarks/{bookmark.pk}/edit/", {"url": bookmark.url, "title": "New title", "tags": "new", "note": "n"}
    )
    bookmark.refresh_from_db()
    assert (bookmark.title, bookmark.note) == ("New title", "n")
    assert [t.name for t in bookmark.tags.all()] == ["new"]


def test_delete_asks_for_confirmation_then_deletes_on_post(alice_client, user):
    bookmark = make_bookmark(user)
    assert "Delete this bookmark?" in alice_client.get(f"/bookmarks/{bookmark.pk}/delete/").content.decode()
    assert Bookmark.objects.filter(pk=bookmark.pk).exists()
    alice_client.post(f"/bookmarks/{bookmark.pk}/delete/")
    assert not Bookmark.objects.filter(pk=bookmark.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/bookmarks/{id}/edit/"),
        ("post", "/bookmarks/{id}/edit/"),
        ("get", "/bookmarks/{id}/delete/"),
        ("post", "/bookmarks/{id}/delete/"),
    ],
)
def test_another_users_bookmark_is_not_found(alice_client, other_user, method, path):
    theirs = make_bookmark(other_user, title="Private")
    response = getattr(alice_client, method)(path.format(id=theirs.pk), {"url": "https://example.com/x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Private"


def test_posts_without_a_csrf_token_are_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    bookmark = make_bookmark(user)

    assert client.post("/bookmarks/add/", {"url": "https://example.com/new"}).status_code == 403
    assert client.post(f"/bookmarks/{bookmark.pk}/delete/").status_code == 403
    assert Bookmark.objects.filter(owner=user).count() == 1


def test_posts_with_the_csrf_token_are_accepted(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    form = client.get("/bookmarks/add/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post("/bookmarks/add/", {"url": "https://example.com/new", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_settings_saves_the_email_address(alice_client, user):
    alice_client.post("/settings/", {"email": "alice@example.org"})
    user.refresh_from_db()
    assert user.email == "alice@example.org"


def test_admin_is_served(client):
    assert client.get(reverse("admin:index")).status_code == 302

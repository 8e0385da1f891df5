"""REST API and the Pinboard v1-compatible API: tokens, ownership, formats."""

from __future__ import annotations

import hashlib
import json
from xml.etree import ElementTree

import pytest
from django.test import Client

from bookmarks.models import AccessToken, Bookmark
from bookmarks.tokens import regenerate, token_for
from tests.conftest import make_bookmark


@pytest.fixture
def api(user):
    return Client(HTTP_AUTHORIZATION=f"Token {token_for(user, AccessToken.Kind.API)}")


def pin(client: Client, user, path: str, **params):
    params.setdefault("auth_token", f"{user.username}:{token_for(user, AccessToken.Kind.API)}")
    return client.get(f"/api/v1/{path}", params)


def xml(content: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(content)  # noqa: S314 (our own server's reply)


# -- REST API -------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_refuses_requests_without_a_token(client, user):
    make_bookmark(user)
    assert client.get("/api/bookmarks/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_wrong_token_is_refused(client, user):
    assert client.get("/api/bookmarks/", HTTP_AUTHORIZATION="Token NOPE").status_code == 401


@pytest.mark.django_db
def test_listing_shows_only_the_token_owners_bookmarks(api, user, other_user):
    make_bookmark(user, "https://example.com/mine", tags=["a"])
    make_bookmark(other_user, "https://example.com/theirs")
    body = api.get("/api/bookmarks/").json()
    assert [item["url"] for item in body["results"]] == ["https://example.com/mine"]
    assert body["results"][0]["tags"] == ["a"]


@pytest.mark.django_db
def test_another_users_bookmark_is_a_404_for_read_change_and_delete(api, other_user):
    theirs = make_bookmark(other_user, "https://example.com/theirs")
    url = f"/api/bookmarks/{theirs.pk}/"
    assert api.get(url).status_code == 404
    assert api.patch(url, {"title": "pwned"}, content_type="application/json").status_code == 404
    assert api.delete(url).status_code == 404
    assert Bookmark.objects.get(pk=theirs.pk).title == ""


@pytest.mark.django_db
def test_creating_goes_through_the_service_and_resaving_merges(api, user):
    first = api.post("/api/bookmarks/", {"url": "https://example.com/x", "tags": ["a"]}, "application/json")
    again = api.post("/api/bookmarks/", {"url": "https://example.com/x/", "tags": ["b"]}, "application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    bookmark = Bookmark.objects.get(owner=user)
    assert bookmark.source == Bookmark.Source.API
    assert sorted(again.json()["tags"]) == ["a", "b"]


@pytest.mark.django_db
def test_an_invalid_url_is_a_400_with_a_message(api):
    response = api.post("/api/bookmarks/", {"url": "javascript:alert(1)"}, content_type="application/json")
    assert response.status_code == 400
    assert "url" in response.json()


@pytest.mark.django_db
def test_patch_changes_fields_and_delete_removes(api, user):
    bookmark = make_bookmark(user, "https://example.com/x", tags=["a"])
    url = f"/api/bookmarks/{bookmark.pk}/"
    response = api.patch(url, {"title": "New", "unread": True}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["unread"], response.json()["tags"]) == ("New", True, ["a"])
    assert api.delete(url).status_code == 204
    assert not Bookmark.objects.filter(pk=bookmark.pk).exists()


@pytest.mark.django_db
def test_search_and_tag_filters(api, user):
    make_bookmark(user, "https://example.com/1", title="Django tips", tags=["web"])
    make_bookmark(user, "https://example.com/2", title="Django ORM", tags=["db"])
    make_bookmark(user, "https://example.com/3", title="Rust", tags=["web"])
    found = api.get("/api/bookmarks/", {"q": "django", "tag": "web"}).json()["results"]
    assert [item["url"] for item in found] == ["https://example.com/1"]


@pytest.mark.django_db
def test_tags_list_counts_only_own_bookmarks(api, user, other_user):
    make_bookmark(user, tags=["web"])
    make_bookmark(other_user, tags=["secret"])
    assert api.get("/api/tags/").json() == [{"id": user.tags.get().pk, "name": "web", "count": 1}]


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_bookmark_paths(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/bookmarks/{id}/" in json.loads(response.content)["paths"]


@pytest.mark.django_db
def test_a_regenerated_token_replaces_the_old_one(client, user):
    old = token_for(user, AccessToken.Kind.API)
    new = regenerate(user, AccessToken.Kind.API)
    assert client.get("/api/bookmarks/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
    assert client.get("/api/bookmarks/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


# -- Pinboard v1 ------------------------------------------------------------


@pytest.mark.django_db
def test_pinboard_refuses_a_token_with_another_users_name(client, user, other_user):
    response = client.get("/api/v1/posts/all", {"auth_token": f"mallory:{token_for(user, AccessToken.Kind.API)}"})
    assert response.status_code == 401


@pytest.mark.django_db
def test_pinboard_accepts_http_basic_with_the_password(client, user):
    make_bookmark(user, "https://example.com/1")
    import base64

    header = "Basic " + base64.b64encode(b"alice:correct horse battery").decode()
    response = client.get("/api/v1/posts/all", {"format": "json"}, HTTP_AUTHORIZATION=header)
    assert [post["href"] for post in response.json()] == ["https://example.com/1"]


@pytest.mark.django_db
def test_pinboard_posts_add_then_get_in_json_field_by_field(client, user):
    added = pin(
        client,
        user,
        "posts/add",
        url="https://example.com/p",
        description="Title",
        extended="Notes",
        tags="a b",
        dt="2020-01-02T03:04:05Z",
        shared="no",
        toread="yes",
        format="json",
    )
    assert added.json() == {"result_code": "done"}
    body = pin(client, user, "posts/get", url="https://example.com/p", format="json").json()
    assert set(body) == {"date", "user", "posts"}
    assert body["user"] == "alice"
    (post,) = body["posts"]
    assert set(post) == {"href", "description", "extended", "meta", "hash", "time", "shared", "toread", "tags"}
    assert post["href"] == "https://example.com/p"
    assert (post["description"], post["extended"], post["tags"]) == ("Title", "Notes", "a b")
    assert (post["shared"], post["toread"], post["time"]) == ("no", "yes", "2020-01-02T03:04:05Z")
    assert post["hash"] == hashlib.md5(b"https://example.com/p", usedforsecurity=False).hexdigest()
    assert len(post["meta"]) == 32


@pytest.mark.django_db
def test_pinboard_answers_xml_by_default(client, user):
    make_bookmark(user, "https://example.com/1", title="One", tags=["a", "b"])
    response = pin(client, user, "posts/recent")
    assert response["Content-Type"].startswith("text/xml")
    root = xml(response.content)
    assert root.tag == "posts" and root.get("user") == "alice" and root.get("dt")
    (post,) = root
    assert post.tag == "post"
    assert set(post.attrib) == {"href", "time", "description", "extended", "tag", "hash", "meta", "shared", "toread"}
    assert (post.get("description"), post.get("tag"), post.get("shared")) == ("One", "a b", "yes")


@pytest.mark.django_db
def test_pinboard_add_with_replace_no_reports_an_existing_item(client, user):
    make_bookmark(user, "https://example.com/1")
    response = pin(client, user, "posts/add", url="https://example.com/1", replace="no")
    assert xml(response.content).attrib == {"code": "item already exists"}


@pytest.mark.django_db
def test_pinboard_add_replaces_an_existing_bookmark_by_default(client, user):
    make_bookmark(user, "https://example.com/1", title="Old", tags=["old"], note="old note")
    pin(client, user, "posts/add", url="https://example.com/1", description="New", tags="new")
    bookmark = Bookmark.objects.get(owner=user)
    assert (bookmark.title, bookmark.note, list(bookmark.tags.values_list("name", flat=True))) == ("New", "", ["new"])


@pytest.mark.django_db
def test_pinboard_delete_and_item_not_found(client, user, other_user):
    theirs = make_bookmark(other_user, "https://example.com/theirs")
    make_bookmark(user, "https://example.com/mine")
    gone = pin(client, user, "posts/delete", url="https://example.com/mine", format="json").json()
    missing = pin(client, user, "posts/delete", url="https://example.com/theirs", format="json").json()
    assert (gone, missing) == ({"result_code": "done"}, {"result_code": "item not found"})
    assert Bookmark.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_pinboard_posts_all_json_is_a_list_filtered_by_tag(client, user, other_user):
    make_bookmark(user, "https://example.com/1", tags=["x"])
    make_bookmark(user, "https://example.com/2")
    make_bookmark(other_user, "https://example.com/3", tags=["x"])
    posts = pin(client, user, "posts/all", tag="x", format="json").json()
    assert [post["href"] for post in posts] == ["https://example.com/1"]


@pytest.mark.django_db
def test_pinboard_recent_honours_count(client, user):
    for n in range(5):
        make_bookmark(user, f"https://example.com/{n}")
    assert len(pin(client, user, "posts/recent", count="2", format="json").json()["posts"]) == 2


@pytest.mark.django_db
def test_pinboard_tags_get_in_both_formats(client, user):
    make_bookmark(user, tags=["a", "b"])
    make_bookmark(user, tags=["a"])
    assert pin(client, user, "tags/get", format="json").json() == {"a": 2, "b": 1}
    root = xml(pin(client, user, "tags/get").content)
    assert [(tag.get("tag"), tag.get("count")) for tag in root] == [("a", "2"), ("b", "1")]


@pytest.mark.django_db
def test_pinboard_user_api_token(client, user):
    token = token_for(user, AccessToken.Kind.API)
    assert pin(client, user, "user/api_token", format="json").json() == {"result": token}
    assert xml(pin(client, user, "user/api_token").content).text == token


@pytest.mark.django_db
def test_pinboard_posts_update_reports_the_latest_change(client, user):
    make_bookmark(user)
    body = pin(client, user, "posts/update", format="json").json()
    assert set(body) == {"update_time"} and body["update_time"].endswith("Z")


@pytest.mark.django_db
def test_pinboard_never_asks_browsers_for_a_password(client):
    response = client.get("/api/v1/posts/all")
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.django_db
def test_pinboard_posts_get_by_day(client, user):
    pin(client, user, "posts/add", url="https://example.com/old", dt="2020-01-01T10:00:00Z")
    pin(client, user, "posts/add", url="https://example.com/new", dt="2020-01-05T10:00:00Z")
    body = pin(client, user, "posts/get", dt="2020-01-01", format="json").json()
    assert [post["href"] for post in body["posts"]] == ["https://example.com/old"]
    newest = pin(client, user, "posts/get", format="json").json()
    assert [post["href"] for post in newest["posts"]] == ["https://example.com/new"]

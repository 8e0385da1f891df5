"""The rest of Pinboard's v1 surface: dates, suggest, tag rename and delete, the secret, notes."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.test import Client

from bookmarks.models import AccessToken, Bookmark, Tag
from bookmarks.tokens import token_for
from tests.conftest import make_bookmark


def pin(client: Client, user, path: str, **params):
    params.setdefault("auth_token", f"{user.username}:{token_for(user, AccessToken.Kind.API)}")
    return client.get(f"/api/v1/{path}", params)


def xml(content: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(content)  # noqa: S314 (our own server's reply)


def saved_on(user, url: str, when: str, tags: str = "") -> None:
    pin(Client(), user, "posts/add", url=url, dt=when, tags=tags)


@pytest.mark.django_db
def test_posts_dates_counts_bookmarks_per_day_in_json(client, user, other_user):
    saved_on(user, "https://example.com/1", "2020-01-01T10:00:00Z")
    saved_on(user, "https://example.com/2", "2020-01-01T23:59:00Z")
    saved_on(user, "https://example.com/3", "2020-01-05T00:01:00Z")
    saved_on(other_user, "https://example.com/4", "2020-01-05T00:01:00Z")
    body = pin(client, user, "posts/dates", format="json").json()
    assert body == {"user": "alice", "tag": "", "dates": {"2020-01-05": 1, "2020-01-01": 2}}


@pytest.mark.django_db
def test_posts_dates_answers_xml_by_default_and_filters_by_tag(client, user):
    saved_on(user, "https://example.com/1", "2020-01-01T10:00:00Z", tags="x")
    saved_on(user, "https://example.com/2", "2020-01-02T10:00:00Z")
    root = xml(pin(client, user, "posts/dates", tag="x").content)
    assert (root.tag, root.get("user"), root.get("tag")) == ("dates", "alice", "x")
    assert [(date.get("date"), date.get("count")) for date in root] == [("2020-01-01", "1")]


@pytest.mark.django_db
def test_posts_suggest_recommends_the_bookmarks_tags_then_the_sites(client, user):
    make_bookmark(user, "https://example.com/saved", tags=["mine"])
    make_bookmark(user, "https://example.com/other", tags=["site", "often"])
    make_bookmark(user, "https://example.com/third", tags=["often"])
    make_bookmark(user, "https://elsewhere.org/x", tags=["unrelated"])
    body = pin(client, user, "posts/suggest", url="https://example.com/saved", format="json").json()
    assert body == [{"popular": []}, {"recommended": ["mine", "often", "site"]}]


@pytest.mark.django_db
def test_posts_suggest_in_xml_never_shows_other_peoples_tags(client, user, other_user):
    make_bookmark(other_user, "https://example.com/a", tags=["secret"])
    make_bookmark(user, "https://example.com/b", tags=["ours"])
    root = xml(pin(client, user, "posts/suggest", url="https://example.com/a").content)
    assert root.tag == "suggested"
    assert [(child.tag, child.text) for child in root] == [("recommended", "ours")]


@pytest.mark.django_db
def test_posts_suggest_without_a_url_says_so(client, user):
    assert pin(client, user, "posts/suggest", format="json").json() == {"result_code": "missing url"}


@pytest.mark.django_db
def test_tags_rename_renames_the_tag_on_every_bookmark(client, user):
    first = make_bookmark(user, tags=["pyhton"])
    second = make_bookmark(user, tags=["pyhton", "web"])
    reply = pin(client, user, "tags/rename", old="Pyhton", new="python")
    assert xml(reply.content).text == "done"
    assert [list(b.tags.values_list("name", flat=True)) for b in (first, second)] == [["python"], ["python", "web"]]


@pytest.mark.django_db
def test_tags_rename_onto_an_existing_tag_merges_them(client, user):
    make_bookmark(user, tags=["js"])
    make_bookmark(user, tags=["javascript"])
    assert pin(client, user, "tags/rename", old="js", new="javascript", format="json").json() == {"result": "done"}
    assert pin(client, user, "tags/get", format="json").json() == {"javascript": 2}


@pytest.mark.django_db
def test_tags_rename_of_a_tag_the_user_lacks_changes_nothing(client, user, other_user):
    make_bookmark(other_user, tags=["theirs"])
    reply = pin(client, user, "tags/rename", old="theirs", new="mine", format="json").json()
    assert reply == {"result_code": "tag not found"}
    assert list(Tag.objects.values_list("name", flat=True)) == ["theirs"]


@pytest.mark.django_db
def test_tags_delete_keeps_the_bookmarks(client, user):
    bookmark = make_bookmark(user, tags=["old", "keep"])
    assert pin(client, user, "tags/delete", tag="OLD", format="json").json() == {"result": "done"}
    assert list(Bookmark.objects.get(pk=bookmark.pk).tags.values_list("name", flat=True)) == ["keep"]


@pytest.mark.django_db
def test_tags_delete_without_a_tag_says_so(client, user):
    assert xml(pin(client, user, "tags/delete").content).attrib == {"code": "missing tag"}


@pytest.mark.django_db
def test_user_secret_is_the_key_of_the_private_feeds(client, user):
    secret = pin(client, user, "user/secret", format="json").json()["result"]
    assert secret == token_for(user, AccessToken.Kind.FEED)
    assert client.get(f"/feeds/{secret}/rss/").status_code == 200


@pytest.mark.django_db
def test_notes_list_is_empty_in_both_formats(client, user):
    assert pin(client, user, "notes/list", format="json").json() == {"count": 0, "notes": []}
    root = xml(pin(client, user, "notes/list").content)
    assert (root.tag, root.get("count"), list(root)) == ("notes", "0", [])


@pytest.mark.django_db
def test_a_note_by_id_is_not_found(client, user):
    assert xml(pin(client, user, "notes/abc123").content).attrib == {"code": "item not found"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method", ["posts/dates", "posts/suggest", "tags/rename", "tags/delete", "user/secret", "notes/list", "notes/x"]
)
def test_every_new_method_refuses_a_wrong_token(client, user, method):
    response = client.get(f"/api/v1/{method}/", {"auth_token": "alice:WRONG"})
    assert response.status_code == 401

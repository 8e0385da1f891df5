"""The Pinboard v1 API as a real client sees it: the ``pinboard`` library against a live server.

The library talks to Pinboard's own address, a module constant (``PINBOARD_API_ENDPOINT``,
public, no other setting exists); the tests point it at the live server on loopback.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime

import pinboard
import pytest

from bookmarks.models import AccessToken, Bookmark
from bookmarks.tokens import token_for
from tests.conftest import make_bookmark, make_user


@pytest.fixture
def owner(transactional_db):
    return make_user("alice")


@pytest.fixture
def pb(owner, live_server, monkeypatch):
    """A Pinboard client library object aimed at the live server with alice's token."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # loopback only, never through a proxy
    library = importlib.import_module("pinboard.pinboard")
    monkeypatch.setattr(library, "PINBOARD_API_ENDPOINT", f"{live_server.url}/api/v1/")
    return pinboard.Pinboard(f"alice:{token_for(owner, AccessToken.Kind.API)}")


def test_a_bookmark_added_by_the_client_comes_back_by_url(pb):
    assert pb.posts.add(url="https://example.com/a", description="A", extended="note", tags=["x", "y"], toread=True)
    (post,) = pb.posts.get(url="https://example.com/a")["posts"]
    assert (post.url, post.description, post.extended, post.tags) == ("https://example.com/a", "A", "note", ["x", "y"])
    assert post.toread and post.shared


def test_the_client_adds_with_a_date_and_finds_it_on_that_day(pb):
    pb.posts.add(url="https://example.com/old", description="Old", dt=datetime(2020, 1, 2, 3, 4, 5))
    posts = pb.posts.get(dt=date(2020, 1, 2))["posts"]
    assert [(post.url, post.time) for post in posts] == [("https://example.com/old", datetime(2020, 1, 2, 3, 4, 5))]


def test_recent_lists_the_newest_first(pb, owner):
    for n in range(3):
        make_bookmark(owner, f"https://example.com/{n}")
    assert [post.url for post in pb.posts.recent(count=2)["posts"]] == [
        "https://example.com/2",
        "https://example.com/1",
    ]


def test_all_returns_every_bookmark_and_filters_by_tag(pb, owner):
    make_bookmark(owner, "https://example.com/1", tags=["x"])
    make_bookmark(owner, "https://example.com/2")
    assert sorted(post.url for post in pb.posts.all()) == ["https://example.com/1", "https://example.com/2"]
    assert [post.url for post in pb.posts.all(tag=["x"])] == ["https://example.com/1"]


def test_dates_counts_bookmarks_per_day(pb):
    pb.posts.add(url="https://example.com/1", description="1", dt=datetime(2021, 5, 1, 8, 0, 0))
    pb.posts.add(url="https://example.com/2", description="2", dt=datetime(2021, 5, 1, 9, 0, 0))
    assert pb.posts.dates()["dates"] == {date(2021, 5, 1): 2}


def test_suggest_recommends_the_users_own_tags(pb, owner):
    make_bookmark(owner, "https://example.com/a", tags=["reading"])
    assert pb.posts.suggest(url="https://example.com/a") == [{"popular": []}, {"recommended": ["reading"]}]


def test_update_moves_when_a_bookmark_is_added(pb):
    before = pb.posts.update()
    pb.posts.add(url="https://example.com/new", description="New")
    assert pb.posts.update() >= before


def test_delete_removes_the_bookmark_and_reports_a_missing_one(pb, owner):
    make_bookmark(owner, "https://example.com/gone")
    assert pb.posts.delete(url="https://example.com/gone") is True
    assert not Bookmark.objects.filter(owner=owner).exists()
    with pytest.raises(pinboard.PinboardError, match="item not found"):
        pb.posts.delete(url="https://example.com/gone")


def test_tags_get_counts_each_tag(pb, owner):
    make_bookmark(owner, tags=["a", "b"])
    make_bookmark(owner, tags=["a"])
    assert [(tag.name, tag.count) for tag in pb.tags.get()] == [("a", 2), ("b", 1)]


def test_tags_rename_then_delete(pb, owner):
    bookmark = make_bookmark(owner, tags=["pyhton", "misc"])
    assert pb.tags.rename(old="pyhton", new="python") == {"result": "done"}
    assert pb.tags.delete(tag="misc") == {"result": "done"}
    assert list(Bookmark.objects.get(pk=bookmark.pk).tags.values_list("name", flat=True)) == ["python"]


def test_renaming_a_tag_the_user_lacks_is_an_error(pb):
    with pytest.raises(pinboard.PinboardError, match="tag not found"):
        pb.tags.rename(old="nothing", new="something")


def test_user_api_token_and_secret(pb, owner):
    assert pb.user.api_token() == {"result": token_for(owner, AccessToken.Kind.API)}
    assert pb.user.secret() == {"result": token_for(owner, AccessToken.Kind.FEED)}


def test_notes_list_is_empty(pb):
    assert pb.notes.list() == {"count": 0, "notes": []}


def test_a_wrong_token_is_an_authentication_error(pb):
    with pytest.raises(pinboard.PinboardAuthenticationError):
        pinboard.Pinboard("alice:WRONG").posts.recent()

"""The badge and reason beside a bookmark describe what the person sees (issue 20, bug 3)."""

import pytest

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db

FAILED = Bookmark.Status.FAILED


def item_html(client, bookmark) -> str:
    page = client.get("/bookmarks/").content.decode()
    start = page.index(f'id="b{bookmark.pk}"')
    return page[start : page.index("</li>", start)]


def test_a_typed_title_on_a_page_without_one_shows_no_failure(alice_client, user):
    bookmark = make_bookmark(user, title="My own name for it", status=FAILED, fetch_error="no title found in the page")
    html = item_html(alice_client, bookmark)
    assert "My own name for it" in html
    assert "title not found" not in html
    assert "Why:" not in html


def test_a_typed_title_on_a_page_not_reached_says_the_page_was_not_reached(alice_client, user):
    bookmark = make_bookmark(user, title="My own name for it", status=FAILED, fetch_error="HTTP 404")
    html = item_html(alice_client, bookmark)
    assert "page not reached" in html
    assert "title not found" not in html
    assert "Why: HTTP 404" in html


def test_a_bookmark_shown_by_its_link_says_its_title_was_not_found(alice_client, user):
    bookmark = make_bookmark(
        user, "https://example.com/untitled", status=FAILED, fetch_error="no title found in the page"
    )
    html = item_html(alice_client, bookmark)
    assert "title not found" in html
    assert "Why: no title found in the page" in html


def test_a_private_unread_bookmark_says_so_on_the_list(alice_client, user):
    bookmark = make_bookmark(user, title="Secret reading", is_private=True, unread=True)
    html = item_html(alice_client, bookmark)
    assert '<span class="badge private">private</span>' in html
    assert '<span class="badge unread">unread</span>' in html


def test_private_and_unread_markers_are_in_chinese_in_the_chinese_list(alice_client, user):
    bookmark = make_bookmark(user, title="Secret reading", is_private=True, unread=True)
    alice_client.cookies["django_language"] = "zh-hans"
    html = item_html(alice_client, bookmark)
    assert '<span class="badge private">私密</span>' in html
    assert '<span class="badge unread">未读</span>' in html


def test_a_read_public_bookmark_shows_neither_marker(alice_client, user):
    html = item_html(alice_client, make_bookmark(user, title="Open and read"))
    assert "badge private" not in html and "badge unread" not in html


def test_the_edit_form_shows_and_changes_private_and_unread(alice_client, user):
    bookmark = make_bookmark(user, "https://example.com/a", title="A", is_private=True, unread=True)
    form = alice_client.get(f"/bookmarks/{bookmark.pk}/edit/").content.decode()
    assert 'name="is_private" id="id_is_private" checked' in form
    assert 'name="unread" id="id_unread" checked' in form
    fields = {"url": bookmark.url, "title": "A", "tags": "", "note": "", "unread": "on"}
    alice_client.post(f"/bookmarks/{bookmark.pk}/edit/", fields)
    bookmark.refresh_from_db()
    assert (bookmark.is_private, bookmark.unread) == (False, True)


def test_adding_a_bookmark_as_private_and_unread(alice_client, user):
    fields = {
        "url": "https://example.com/later",
        "title": "",
        "tags": "",
        "note": "",
        "is_private": "on",
        "unread": "on",
    }
    alice_client.post("/bookmarks/add/", fields)
    bookmark = Bookmark.objects.get(owner=user)
    assert (bookmark.is_private, bookmark.unread) == (True, True)


def test_adding_a_link_again_without_ticking_private_keeps_it_private(alice_client, user):
    bookmark = make_bookmark(user, "https://example.com/kept", is_private=True)
    alice_client.post("/bookmarks/add/", {"url": "https://example.com/kept", "title": "", "tags": "", "note": ""})
    bookmark.refresh_from_db()
    assert bookmark.is_private

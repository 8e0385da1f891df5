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

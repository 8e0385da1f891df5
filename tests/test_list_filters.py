"""The list's filters and sorts (issue 20): in the URL, as search qualifiers, in the live poll."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from bookmarks import services
from bookmarks.models import Bookmark
from bookmarks.search import search_bookmarks
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:
    return [item.title for item in response.context["items"]]


def test_unread_filter_keeps_the_unread_bookmarks(alice_client, user):
    make_bookmark(user, title="Read already")
    make_bookmark(user, title="To read", unread=True)
    assert _titles(alice_client.get("/bookmarks/", {"unread": "1"})) == ["To read"]


def test_unread_zero_keeps_the_read_bookmarks(alice_client, user):
    make_bookmark(user, title="Read already")
    make_bookmark(user, title="To read", unread=True)
    assert _titles(alice_client.get("/bookmarks/", {"unread": "0"})) == ["Read already"]


def test_private_filter_keeps_the_private_bookmarks(alice_client, user):
    make_bookmark(user, title="Shared")
    make_bookmark(user, title="Secret", is_private=True)
    assert _titles(alice_client.get("/bookmarks/", {"private": "1"})) == ["Secret"]


def test_untagged_filter_keeps_the_bookmarks_without_tags(alice_client, user):
    make_bookmark(user, title="Tagged", tags="python")
    make_bookmark(user, title="Loose")
    assert _titles(alice_client.get("/bookmarks/", {"untagged": "1"})) == ["Loose"]


@pytest.mark.parametrize(("name", "source"), [("chat", "im"), ("web", "web"), ("import", "import"), ("api", "api")])
def test_source_filter_keeps_the_bookmarks_saved_that_way(alice_client, user, name, source):
    for other in Bookmark.Source.values:
        make_bookmark(user, title=f"Saved by {other}", source=other)
    assert _titles(alice_client.get("/bookmarks/", {"from": name})) == [f"Saved by {source}"]


def test_filters_combine_with_each_other(alice_client, user):
    make_bookmark(user, title="Chat unread", source="im", unread=True)
    make_bookmark(user, title="Chat read", source="im")
    make_bookmark(user, title="Web unread", unread=True)
    assert _titles(alice_client.get("/bookmarks/", {"from": "chat", "unread": "1"})) == ["Chat unread"]


def test_filters_combine_with_a_search_and_a_tag(alice_client, user):
    make_bookmark(user, title="Asyncio guide", tags="python", unread=True)
    make_bookmark(user, title="Asyncio notes", tags="python")
    make_bookmark(user, title="Asyncio in Rust", tags="rust", unread=True)
    make_bookmark(user, title="Django guide", tags="python", unread=True)
    response = alice_client.get("/bookmarks/", {"q": "asyncio", "tag": "python", "unread": "1"})
    assert _titles(response) == ["Asyncio guide"]


def test_sort_by_title_orders_by_the_shown_title_ignoring_case(alice_client, user):
    make_bookmark(user, title="banana")
    make_bookmark(user, title="Apple")
    make_bookmark(user, "https://cherry.example/")  # no title yet: shown by its link
    assert _titles(alice_client.get("/bookmarks/", {"sort": "title"})) == ["Apple", "banana", "cherry.example"]


def test_sort_by_site_orders_by_host_without_www(alice_client, user):
    make_bookmark(user, "https://www.zeta.example/a", title="Zeta")
    make_bookmark(user, "http://alpha.example/b", title="Alpha")
    make_bookmark(user, "https://mid.example/c", title="Mid")
    assert _titles(alice_client.get("/bookmarks/", {"sort": "site"})) == ["Alpha", "Mid", "Zeta"]


def test_sort_oldest_puts_the_first_saved_first(alice_client, user):
    make_bookmark(user, title="First", added_at=datetime(2020, 1, 1, tzinfo=UTC))
    make_bookmark(user, title="Second", added_at=datetime(2021, 1, 1, tzinfo=UTC))
    assert _titles(alice_client.get("/bookmarks/", {"sort": "oldest"})) == ["First", "Second"]
    assert _titles(alice_client.get("/bookmarks/")) == ["Second", "First"]


def test_sorted_pages_continue_where_the_last_one_stopped(alice_client, user):
    for number in range(55):
        make_bookmark(user, title=f"Item {number:02d}", unread=number % 2 == 0)
    first = alice_client.get("/bookmarks/", {"sort": "title", "unread": "1"})
    second = alice_client.get("/bookmarks/", {"sort": "title", "unread": "1", "page": "2"})
    # 28 unread: one page holds them all.
    assert _titles(first) == [f"Item {n:02d}" for n in range(0, 55, 2)]
    assert _titles(second) == _titles(first)
    everything = _titles(alice_client.get("/bookmarks/", {"sort": "title"})) + _titles(
        alice_client.get("/bookmarks/", {"sort": "title", "page": "2"})
    )
    assert everything == [f"Item {n:02d}" for n in range(55)]


def test_page_links_keep_the_filters_and_the_sort(alice_client, user):
    for _number in range(55):
        make_bookmark(user, unread=True)
    page = alice_client.get("/bookmarks/", {"unread": "1", "sort": "oldest", "q": "example"}).content.decode()
    assert 'href="?q=example&amp;unread=1&amp;sort=oldest&amp;page=2"' in page


def test_an_unknown_sort_says_so_and_shows_the_newest_first(alice_client, user):
    make_bookmark(user, title="Old", added_at=datetime(2020, 1, 1, tzinfo=UTC))
    make_bookmark(user, title="New")
    response = alice_client.get("/bookmarks/", {"sort": "colour", "from": "fax"})
    page = response.content.decode()
    assert _titles(response) == ["New", "Old"]
    assert "Unknown sort “colour”" in page
    assert "Unknown source “fax”" in page


def test_the_filter_bar_shows_the_active_choices(alice_client, user):
    make_bookmark(user)
    page = alice_client.get("/bookmarks/", {"unread": "1", "from": "chat", "sort": "site"}).content.decode()
    assert '<input type="checkbox" name="unread" value="1" id="filter-unread" checked>' in page
    assert '<option value="chat" selected>' in page
    assert '<option value="site" selected>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("is:unread", ["To read from chat"]),
        ("-is:unread", ["Private one", "Tagged one"]),
        ("is:private", ["Private one"]),
        ("is:untagged", ["Private one", "To read from chat"]),
        ("from:chat", ["To read from chat"]),
        ("-from:chat", ["Private one", "Tagged one"]),
        ("from:web is:untagged", ["Private one"]),
    ],
)
def test_search_qualifiers_select_what_the_url_filters_select(user, query, expected):
    make_bookmark(user, title="Tagged one", tags="python")
    make_bookmark(user, title="Private one", is_private=True)
    make_bookmark(user, title="To read from chat", unread=True, source="im")
    found = search_bookmarks(Bookmark.objects.filter(owner=user), query)
    assert sorted(bookmark.display_title for bookmark in found) == expected


def test_live_poll_leaves_out_arrivals_the_filters_exclude(alice_client, user):
    make_bookmark(user, title="Old", unread=True)
    Bookmark.objects.update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    since = timezone.now() - timedelta(seconds=1)
    services.save_url(user, "https://example.com/read", title="Arrived read", source="im")
    later = services.save_url(user, "https://example.com/later", title="Arrived unread", source="im", unread=True)
    data = alice_client.get("/bookmarks/live/", {"since": since.isoformat(), "unread": "1", "from": "chat"}).json()
    assert [item["id"] for item in data["items"]] == [later.bookmark.pk]


def test_live_arrivals_go_on_top_only_when_the_list_is_newest_first(alice_client, user):
    make_bookmark(user)
    newest = alice_client.get("/bookmarks/").content.decode()
    by_title = alice_client.get("/bookmarks/", {"sort": "title"}).content.decode()
    assert 'data-prepend="1"' in newest
    assert 'data-prepend=""' in by_title


def test_a_filter_counts_its_matches_only_up_to_the_cap(alice_client, user, monkeypatch):
    from bookmarks.web.views import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(pages, "SEARCH_COUNT_CAP", 3)
    for _number in range(5):
        make_bookmark(user, unread=True)
    page = alice_client.get("/bookmarks/", {"unread": "1"}).content.decode()
    assert "More than 3 bookmarks found." in page


def test_a_filtered_sorted_page_runs_as_many_queries_for_many_bookmarks_as_for_few(alice_client, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            alice_client.get("/bookmarks/", {"unread": "1", "untagged": "1", "from": "web", "sort": "site"})
        return len(captured)

    for _number in range(2):
        make_bookmark(user, unread=True)
    few = queries()
    for _number in range(40):
        make_bookmark(user, unread=True)
    assert queries() == few

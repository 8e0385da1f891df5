"""The list page's tools: bulk actions, live updates, tags page, states, language and time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookmarks import services
from bookmarks.models import Bookmark, Tag
from bookmarks.web.views.pages import LIVE_LIMIT, PAGE_SIZE
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def test_bulk_add_tag_tags_the_selected_bookmarks(alice_client, user):
    one, two = make_bookmark(user), make_bookmark(user)
    alice_client.post("/bookmarks/bulk/", {"action": "add_tag", "tag": "later", "ids": [one.pk, two.pk]})
    assert Bookmark.objects.filter(tags__name="later").count() == 2


def test_bulk_delete_through_the_page_leaves_other_users_bookmarks(alice_client, user, other_user):
    mine, theirs = make_bookmark(user), make_bookmark(other_user)
    response = alice_client.post("/bookmarks/bulk/", {"action": "delete", "ids": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    assert list(Bookmark.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_bulk_remove_tag_needs_a_tag_name(alice_client, user):
    bookmark = make_bookmark(user, tags="keep")
    response = alice_client.post(
        "/bookmarks/bulk/", {"action": "remove_tag", "tag": "", "ids": [bookmark.pk]}, follow=True
    )
    assert "Type the tag to add or remove." in response.content.decode()
    assert bookmark.tags.count() == 1


def test_bulk_action_without_a_selection_says_so(alice_client, user):
    make_bookmark(user)
    response = alice_client.post("/bookmarks/bulk/", {"action": "delete"}, follow=True)
    assert "Select some bookmarks first." in response.content.decode()
    assert Bookmark.objects.count() == 1


def test_live_endpoint_returns_bookmarks_saved_since_the_page_was_shown(alice_client, user):
    since = timezone.now()
    services.save_url(user, "https://example.com/from-chat", title="Sent from chat", source="im")
    data = alice_client.get("/bookmarks/live/", {"since": since.isoformat()}).json()
    assert [item["id"] for item in data["items"]] == list(Bookmark.objects.values_list("pk", flat=True))
    assert "Sent from chat" in data["items"][0]["html"]
    assert "from chat" in data["items"][0]["html"]


def test_live_endpoint_leaves_out_older_and_other_users_bookmarks(alice_client, user, other_user):
    make_bookmark(user, title="Old one")
    Bookmark.objects.update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    since = timezone.now() - timedelta(seconds=1)
    make_bookmark(other_user, title="Someone else's")
    assert alice_client.get("/bookmarks/live/", {"since": since.isoformat()}).json()["items"] == []


def test_live_endpoint_applies_the_pages_search(alice_client, user):
    since = timezone.now() - timedelta(seconds=1)
    make_bookmark(user, title="Matching 收藏")
    make_bookmark(user, title="Other")
    items = alice_client.get("/bookmarks/live/", {"since": since.isoformat(), "q": "收藏"}).json()["items"]
    assert len(items) == 1 and "Matching" in items[0]["html"]


def test_live_items_send_their_buttons_back_to_the_list(alice_client, user):
    since = timezone.now() - timedelta(seconds=1)
    make_bookmark(user)
    html = alice_client.get("/bookmarks/live/", {"since": since.isoformat(), "back": "/bookmarks/?page=2"}).json()[
        "items"
    ][0]["html"]
    assert 'name="next" value="/bookmarks/?page=2"' in html


def test_pending_bookmark_says_its_title_is_on_its_way(alice_client, user):
    make_bookmark(user, status=Bookmark.Status.PENDING)
    assert "title on its way" in alice_client.get("/bookmarks/").content.decode()


def test_failed_bookmark_shows_the_reason_and_a_retry(alice_client, user):
    bookmark = make_bookmark(user, status=Bookmark.Status.FAILED, fetch_error="HTTP 404")
    page = alice_client.get("/bookmarks/").content.decode()
    assert "title not found" in page and "HTTP 404" in page
    assert f'action="/bookmarks/{bookmark.pk}/refresh/"' in page


def test_tags_page_lists_tags_with_counts(alice_client, user, other_user):
    make_bookmark(user, tags="python web")
    make_bookmark(user, tags="python")
    make_bookmark(other_user, tags="secret")
    page = alice_client.get("/bookmarks/tags/").content.decode()
    assert "#python" in page and "#web" in page and "secret" not in page
    python = Tag.objects.get(owner=user, name="python")
    assert f'<tr id="tag-{python.pk}">' in page
    assert page.split(f'<tr id="tag-{python.pk}">')[1].split("</tr>")[0].count('class="count">2<') == 1


def test_renaming_a_tag_from_the_tags_page(alice_client, user):
    bookmark = make_bookmark(user, tags="pyhton")
    alice_client.post(f"/bookmarks/tags/{Tag.objects.get().pk}/rename/", {"name": "python"})
    assert [tag.name for tag in bookmark.tags.all()] == ["python"]


def test_merging_tags_from_the_tags_page(alice_client, user):
    bookmark = make_bookmark(user, tags="js javascript")
    js, javascript = Tag.objects.get(name="js"), Tag.objects.get(name="javascript")
    alice_client.post("/bookmarks/tags/merge/", {"tags": [js.pk], "target": javascript.pk})
    assert [tag.name for tag in bookmark.tags.all()] == ["javascript"]


def test_another_users_tag_cannot_be_renamed_or_deleted(alice_client, other_user):
    make_bookmark(other_user, tags="theirs")
    tag = Tag.objects.get()
    assert alice_client.post(f"/bookmarks/tags/{tag.pk}/rename/", {"name": "mine"}).status_code == 404
    assert alice_client.post(f"/bookmarks/tags/{tag.pk}/delete/").status_code == 404
    assert Tag.objects.get().name == "theirs"


def test_list_queries_do_not_grow_with_filters_and_bookmarks(alice_client, user, django_assert_max_num_queries):
    # More than a page from the start: a full first page also asks for the count.
    for number in range(PAGE_SIZE + 5):
        make_bookmark(user, f"https://example.com/{number}", title=f"收藏 {number}", tags="a b")
    urls = ["/bookmarks/", "/bookmarks/?q=收藏", "/bookmarks/?tag=a", "/bookmarks/?q=%22example.com%22+-zzz&page=2"]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(12) as few:
            alice_client.get(url)
        counts[url] = len(few.captured_queries)
    for number in range(PAGE_SIZE + 5, 3 * PAGE_SIZE):
        make_bookmark(user, f"https://example.com/{number}", title=f"收藏 {number}", tags=f"a b t{number}")
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            alice_client.get(url)


def make_bookmarks_of_every_kind(user, start: int, stop: int) -> None:
    """Bookmarks numbered ``start`` to ``stop - 1``: pending, failed with a reason, from chat, with
    a note and a description, each with a shared tag and one of its own."""
    kinds = [
        {"status": Bookmark.Status.PENDING, "source": Bookmark.Source.IM},
        {"status": Bookmark.Status.FAILED, "fetch_error": "HTTP 404"},
        {"status": Bookmark.Status.OK, "page_title": "Fetched title", "description": "What the page says."},
        {"status": Bookmark.Status.OK, "note": "first line\nsecond line"},
    ]
    for number in range(start, stop):
        make_bookmark(user, f"https://example.com/{number}", tags=f"shared t{number}", **kinds[number % len(kinds)])


def queries_of(client, url: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/bookmarks/", "/bookmarks/?tag=shared", "/bookmarks/?q=example"])
def test_the_list_page_makes_the_same_number_of_queries_for_3_and_50_bookmarks(alice_client, user, url):
    make_bookmarks_of_every_kind(user, 0, 3)
    with_3 = queries_of(alice_client, url)
    make_bookmarks_of_every_kind(user, 3, PAGE_SIZE)
    assert alice_client.get(url).content.decode().count('<li class="bookmark ') == PAGE_SIZE
    assert queries_of(alice_client, url) == with_3


def test_the_live_endpoint_makes_the_same_number_of_queries_for_3_and_50_changed_bookmarks(alice_client, user):
    since = (timezone.now() - timedelta(seconds=1)).isoformat()
    make_bookmarks_of_every_kind(user, 0, 3)
    with_3 = queries_of(alice_client, "/bookmarks/live/", since=since)
    make_bookmarks_of_every_kind(user, 3, LIVE_LIMIT)
    assert len(alice_client.get("/bookmarks/live/", {"since": since}).json()["items"]) == LIVE_LIMIT
    assert queries_of(alice_client, "/bookmarks/live/", since=since) == with_3


def test_dates_follow_the_browsers_time_zone(alice_client, user):
    make_bookmark(user, added_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    alice_client.cookies["favsite_tz"] = "Asia/Shanghai"
    assert 'datetime="2026-01-02T07:30:00+08:00"' in alice_client.get("/bookmarks/").content.decode()


def test_a_time_zone_chosen_in_settings_wins_over_the_browsers(alice_client, user):
    make_bookmark(user, added_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    alice_client.cookies["favsite_tz"] = "Asia/Shanghai"
    alice_client.post("/settings/time-zone/", {"time_zone": "America/New_York"})
    assert 'datetime="2026-01-01T18:30:00-05:00"' in alice_client.get("/bookmarks/").content.decode()


def test_an_unknown_time_zone_cookie_is_ignored(alice_client, user):
    make_bookmark(user, added_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    alice_client.cookies["favsite_tz"] = "Mars/Olympus"
    assert 'datetime="2026-01-01T23:30:00+00:00"' in alice_client.get("/bookmarks/").content.decode()


def test_the_browser_language_picks_chinese(client, user):
    page = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert 'lang="zh-hans"' in page and "注册" in page


def test_the_language_switcher_overrides_the_browser(client, user):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/", headers={"accept-language": "zh-CN"}).content.decode()
    assert 'lang="en"' in page and "Sign up" in page


def test_each_item_links_to_its_edit_and_delete_pages_and_tags(alice_client, user):
    bookmark = make_bookmark(user, tags="python")
    page = alice_client.get("/bookmarks/").content.decode()
    assert f'href="/bookmarks/{bookmark.pk}/edit/"' in page
    assert f'href="/bookmarks/{bookmark.pk}/delete/"' in page
    assert 'href="/bookmarks/?tag=python"' in page


@pytest.fixture
def capped_search(monkeypatch):
    """Searches count at most 3 matches; pages hold 2 bookmarks."""
    from bookmarks.web.views import pages

    monkeypatch.setattr(pages, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)


def make_common_words(user, count: int) -> None:
    """``count`` bookmarks titled "common word 0", "common word 1", ..., saved in that order."""
    for number in range(count):
        make_bookmark(user, f"https://example.com/{number}", title=f"common word {number}")


def test_a_search_with_very_many_matches_says_more_than(alice_client, user, capped_search):
    make_common_words(user, 5)
    page = alice_client.get("/bookmarks/?q=common").content.decode()
    assert "More than 3 bookmarks found." in page


def test_pages_of_a_search_go_on_past_the_count_cap(alice_client, user, capped_search):
    make_common_words(user, 7)
    third = alice_client.get("/bookmarks/?q=common&page=3").content.decode()
    assert "common word 2<" in third and "common word 1<" in third
    assert 'rel="next" href="?q=common&amp;page=4"' in third
    fourth = alice_client.get("/bookmarks/?q=common&page=4").content.decode()
    assert "common word 0<" in fourth and 'rel="next"' not in fourth


def test_a_search_page_past_the_end_shows_the_last_page(alice_client, user, capped_search):
    make_common_words(user, 7)
    page = alice_client.get("/bookmarks/?q=common&page=9").content.decode()
    assert "common word 0<" in page and 'rel="prev" href="?q=common&amp;page=3"' in page


def test_a_search_finds_its_page_and_its_capped_count_in_one_query(alice_client, user, capped_search):
    make_common_words(user, 5)
    with CaptureQueriesContext(connection) as captured:
        page = alice_client.get("/bookmarks/?q=common").content.decode()
    assert "More than 3 bookmarks found." in page and "common word 4<" in page and "common word 3<" in page
    assert not any("COUNT(" in query["sql"] for query in captured.captured_queries)


def test_a_search_within_the_cap_is_counted_exactly_on_a_later_page(alice_client, user, monkeypatch):
    from bookmarks.web.views import pages

    monkeypatch.setattr(pages, "SEARCH_COUNT_CAP", 10)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    make_common_words(user, 5)
    page = alice_client.get("/bookmarks/?q=common&page=2").content.decode()
    assert "5 bookmarks found." in page and "Page 2 of 3" in page and "common word 2<" in page


def test_a_page_past_the_end_shows_the_last_page(alice_client, user):
    for number in range(55):
        make_bookmark(user, f"https://example.com/{number}", title=f"Bookmark number {number}")
    page = alice_client.get("/bookmarks/?page=99").content.decode()
    assert "Page 2 of 2" in page and "Bookmark number 4<" in page


@pytest.mark.parametrize("query", ["", "q=number&"])
def test_a_page_number_too_large_for_the_database_shows_the_last_page(alice_client, user, query):
    for number in range(55):
        make_bookmark(user, f"https://example.com/{number}", title=f"Bookmark number {number}")
    response = alice_client.get(f"/bookmarks/?{query}page=99999999999999999999999")
    assert response.status_code == 200 and "Bookmark number 4<" in response.content.decode()


def test_a_short_search_result_needs_no_count_query(alice_client, user, django_assert_max_num_queries):
    make_bookmark(user, title="only one")
    # Session, user, ids, rows, tags, texts and link checks, site icons, excerpts, the sidebar's tags and link filters.
    with django_assert_max_num_queries(10) as captured:
        alice_client.get("/bookmarks/?q=only")
    assert not any("COUNT(" in query["sql"] for query in captured.captured_queries)


def test_the_chosen_language_and_time_zone_are_remembered_for_the_chat_bot(alice_client, user):
    from django.utils import timezone as tz
    from django.utils.translation import get_language

    from bookmarks.preferences import speaking_to

    alice_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/bookmarks/"})
    alice_client.post("/settings/time-zone/", {"time_zone": "Asia/Shanghai"})
    with speaking_to(user):
        assert get_language() == "zh-hans"
        assert str(tz.get_current_timezone()) == "Asia/Shanghai"


def test_someone_who_chose_nothing_gets_the_site_defaults(user, settings):
    from django.utils.translation import get_language

    from bookmarks.preferences import speaking_to

    with speaking_to(user):
        assert get_language() == settings.LANGUAGE_CODE


def test_list_items_are_in_the_chosen_language_with_its_date_format(alice_client, user):
    make_bookmark(user, status=Bookmark.Status.PENDING, added_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    alice_client.cookies["django_language"] = "zh-hans"
    item = alice_client.get("/bookmarks/").content.decode().split('<li class="bookmark')[1]
    assert "标题获取中" in item and "刷新标题" in item
    assert 'title="2026年1月1日 23:30">2026年1月1日</time>' in item


def test_the_sidebar_links_to_all_tags_when_it_cannot_show_them_all(alice_client, user):
    from bookmarks.web.views.pages import SIDEBAR_TAGS

    make_bookmark(user, tags=" ".join(f"t{number:03d}" for number in range(SIDEBAR_TAGS + 1)))
    sidebar = alice_client.get("/bookmarks/").content.decode().split('class="tag-cloud"')[1]
    assert "All tags…" in sidebar
    assert f"#t{SIDEBAR_TAGS - 1:03d}<" in sidebar and f"#t{SIDEBAR_TAGS:03d}<" not in sidebar


def test_the_sidebar_offers_to_manage_tags_when_it_shows_them_all(alice_client, user):
    from bookmarks.web.views.pages import SIDEBAR_TAGS

    make_bookmark(user, tags=" ".join(f"t{number:03d}" for number in range(SIDEBAR_TAGS)))
    sidebar = alice_client.get("/bookmarks/").content.decode().split('class="tag-cloud"')[1]
    assert "Manage tags" in sidebar and "All tags…" not in sidebar

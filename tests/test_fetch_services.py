"""bookmarks.services' side of fetching, without a worker (tasks queued on commit are never run here)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookmarks import services
from bookmarks.fetching.metadata import PageMetadata, fetch_page_metadata
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def found(url: str, title: str = "Page title") -> PageMetadata:
    return PageMetadata(url=url, final_url=url, ok=True, title=title, http_status=200, content_type="text/html")


def test_a_result_for_a_link_edited_meanwhile_is_dropped(user):
    bookmark = make_bookmark(user, url="https://example.com/old")
    claimed = services.begin_fetch(bookmark.pk)
    services.edit_bookmark(bookmark, url="https://example.com/new", title="", tags="", note="")
    assert services.record_metadata(bookmark.pk, found("https://example.com/old", "Old page"), bookmark=claimed) is None
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.page_title) == ("pending", "")


def test_a_result_between_retries_notes_the_error_and_stays_pending(user):
    bookmark = make_bookmark(user)
    failure = PageMetadata(url=bookmark.url, http_status=503, error="HTTP 503", retryable=True)
    services.record_metadata(bookmark.pk, failure, final=False)
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_error, bookmark.http_status) == ("pending", "HTTP 503", 503)


def test_a_final_failure_keeps_an_earlier_page_title(user):
    bookmark = make_bookmark(user, page_title="Earlier title")
    services.record_metadata(bookmark.pk, PageMetadata(url=bookmark.url, http_status=404, error="HTTP 404"))
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.page_title, bookmark.fetch_error) == ("failed", "Earlier title", "HTTP 404")


def test_beginning_a_fetch_writes_nothing(user):
    bookmark = make_bookmark(user)
    before = Bookmark.objects.get(pk=bookmark.pk)
    services.begin_fetch(bookmark.pk)
    after = Bookmark.objects.get(pk=bookmark.pk)
    assert (after.fetch_attempts, after.updated_at) == (before.fetch_attempts, before.updated_at)


def test_an_attempt_is_counted_when_its_result_is_written(user):
    bookmark = make_bookmark(user)
    failure = PageMetadata(url=bookmark.url, http_status=503, error="HTTP 503", retryable=True)
    services.record_metadata(bookmark.pk, failure, final=False, bookmark=services.begin_fetch(bookmark.pk))
    claimed = services.begin_fetch(bookmark.pk)
    recorded = services.record_metadata(bookmark.pk, found(bookmark.url), bookmark=claimed)
    bookmark.refresh_from_db()
    assert bookmark.fetch_attempts == recorded.fetch_attempts == 2


def test_a_task_delivered_again_counts_the_attempt_its_dead_worker_lost(user):
    bookmark = make_bookmark(user)
    claimed = services.begin_fetch(bookmark.pk, redelivered=True)
    services.record_metadata(bookmark.pk, found(bookmark.url), bookmark=claimed)
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_attempts) == ("ok", 2)


def test_a_task_delivered_again_past_the_attempt_limit_gives_up(user, settings):
    settings.FETCH_MAX_ATTEMPTS = 3
    bookmark = make_bookmark(user, fetch_attempts=2)  # the page killed the worker twice
    assert services.begin_fetch(bookmark.pk, redelivered=True) is None
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_error) == ("failed", "gave up after 3 attempts")


@pytest.mark.parametrize("redelivered", [False, True], ids=["read", "claimed again"])
def test_the_claimed_bookmark_is_the_stored_row_with_every_field_typed(user, redelivered):
    bookmark = make_bookmark(user, title="Typed", note="a note", page_title="页面", is_private=True)
    claimed = services.begin_fetch(bookmark.pk, redelivered=redelivered)
    stored = Bookmark.objects.get(pk=bookmark.pk)
    for field in Bookmark._meta.concrete_fields:
        assert getattr(claimed, field.attname) == getattr(stored, field.attname), field.name
    assert claimed.updated_at.tzinfo is not None


def test_a_deleted_bookmark_cannot_be_claimed(user):
    bookmark = make_bookmark(user)
    Bookmark.objects.filter(pk=bookmark.pk).delete()
    assert services.begin_fetch(bookmark.pk) is None


def test_a_final_result_writes_every_field_it_found(user):
    bookmark = make_bookmark(user)
    claimed = services.begin_fetch(bookmark.pk)
    metadata = PageMetadata(
        url=bookmark.url, final_url=bookmark.url + "/final", ok=True, title="标题", description="Words",
        site_name="Site", favicon_url="https://example.com/f.ico", image_url="https://example.com/i.png",
        http_status=200,
    )  # fmt: skip
    assert services.record_metadata(bookmark.pk, metadata, bookmark=claimed) is not None
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.page_title, bookmark.description, bookmark.site_name) == (
        "ok", "标题", "Words", "Site"
    )  # fmt: skip
    assert (bookmark.favicon_url, bookmark.image_url, bookmark.final_url) == (
        "https://example.com/f.ico", "https://example.com/i.png", bookmark.url + "/final"
    )  # fmt: skip
    assert bookmark.fetched_at is not None and bookmark.fetched_at == bookmark.updated_at


def test_a_finished_bookmark_cannot_be_claimed(user):
    assert services.begin_fetch(make_bookmark(user, status="ok").pk) is None


def test_proxies_from_the_environment_are_ignored(page_server, monkeypatch):
    # A proxy that does not exist: a fetcher using it would fail.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    result = fetch_page_metadata(page_server.route("/", "<title>Direct</title>"))
    assert (result.ok, result.title) == (True, "Direct")


def test_saving_a_new_url_queues_its_fetch_on_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.save_url(user, "https://example.com/new-page")
    assert len(callbacks) == 1
    assert Bookmark.objects.get(url="https://example.com/new-page").status == "pending"


def test_resaving_a_known_url_queues_nothing(user, django_capture_on_commit_callbacks):
    make_bookmark(user, url="https://example.com/known", status="ok")
    with django_capture_on_commit_callbacks() as callbacks:
        services.save_url(user, "https://example.com/known", note="again")
    assert callbacks == []


def write_together(*results: services.FetchResult) -> list:
    """Results of fetches that ended at the same moment, as the worker's group commit writes them."""
    with transaction.atomic():
        return services.fetch_results.write(list(results))


def final(bookmark, metadata: PageMetadata) -> services.FetchResult:
    return services.FetchResult.of(bookmark.pk, metadata, final=True, bookmark=services.begin_fetch(bookmark.pk))


def test_results_written_together_take_one_statement_for_each_shape(user):
    pages = [make_bookmark(user, url=f"https://example.com/{n}") for n in range(3)]
    missing = make_bookmark(user, url="https://example.com/missing")
    results = [final(page, found(page.url, f"Page {n}")) for n, page in enumerate(pages)]
    results.append(final(missing, PageMetadata(url=missing.url, http_status=404, error="HTTP 404")))
    with CaptureQueriesContext(connection) as queries:
        written = write_together(*results)
    updates = [query["sql"] for query in queries if query["sql"].startswith("UPDATE") and "bookmark" in query["sql"]]
    assert len(updates) == 2
    assert [bookmark.page_title for bookmark in written] == ["Page 0", "Page 1", "Page 2", ""]
    stored = {b.url: (b.status, b.page_title, b.fetch_attempts) for b in Bookmark.objects.all()}
    assert stored == {
        "https://example.com/0": ("ok", "Page 0", 1),
        "https://example.com/1": ("ok", "Page 1", 1),
        "https://example.com/2": ("ok", "Page 2", 1),
        "https://example.com/missing": ("failed", "", 1),
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="arrays per column: PostgreSQL's statement")
def test_groups_of_any_size_write_with_the_same_statement_text_on_postgresql(user):
    # psycopg converts a statement's text once and caches it (bookmarks.pg_arrays).
    pages = [make_bookmark(user, url=f"https://example.com/{n}") for n in range(5)]
    texts = set()

    def statement_text(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and "fetch_attempts" in sql:
            texts.add(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(statement_text):
        for group in (pages[:1], pages[1:5]):
            write_together(*(final(page, found(page.url, "Page")) for page in group))
    assert len(texts) == 1


def test_a_bookmark_given_twice_in_one_group_is_written_by_the_first(user):
    bookmark = make_bookmark(user)
    first, second = final(bookmark, found(bookmark.url, "First")), final(bookmark, found(bookmark.url, "Second"))
    written = write_together(first, second)
    assert written[0].page_title == "First" and written[1] is None
    bookmark.refresh_from_db()
    assert (bookmark.page_title, bookmark.fetch_attempts) == ("First", 1)


def test_a_group_of_failures_without_an_http_status_is_written(user):
    # A column of NULLs has no type of its own: the statement gives it the column's.
    bookmarks = [make_bookmark(user, url=f"https://example.com/{n}") for n in range(2)]
    refused = [PageMetadata(url=b.url, error="connection refused") for b in bookmarks]
    write_together(*(final(b, metadata) for b, metadata in zip(bookmarks, refused, strict=True)))
    assert set(Bookmark.objects.values_list("status", "http_status", "fetch_error")) == {
        ("failed", None, "connection refused")
    }


def test_reads_of_fetches_beginning_together_take_one_statement(user):
    pages = [make_bookmark(user, url=f"https://example.com/{n}") for n in range(3)]
    done = make_bookmark(user, url="https://example.com/done", status=Bookmark.Status.OK)
    gone = make_bookmark(user, url="https://example.com/gone")
    gone_id = gone.pk
    gone.delete()
    asked = [pages[0].pk, done.pk, pages[1].pk, gone_id, pages[2].pk]
    with CaptureQueriesContext(connection) as queries:
        read = services.pending_reads.handle(asked)
    assert len(queries) == 1
    assert [bookmark.url if bookmark else None for bookmark in read] == [
        "https://example.com/0",
        None,
        "https://example.com/1",
        None,
        "https://example.com/2",
    ]


def test_a_bookmark_read_twice_together_is_a_separate_object_for_each_fetch(user):
    bookmark = make_bookmark(user)
    first, second = services.pending_reads.handle([bookmark.pk, bookmark.pk])
    assert first is not second and first.pk == second.pk == bookmark.pk

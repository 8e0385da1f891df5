"""bookmarks.services' side of fetching, without a worker (tasks queued on commit are never run here)."""

from __future__ import annotations

import pytest

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
    assert not services.record_fetch(claimed, found("https://example.com/old", "Old page"))
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.page_title) == ("pending", "")


def test_a_result_between_retries_notes_the_error_and_stays_pending(user):
    bookmark = make_bookmark(user)
    failure = PageMetadata(url=bookmark.url, http_status=503, error="HTTP 503", retryable=True)
    services.record_fetch(bookmark, failure, final=False)
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_error, bookmark.http_status) == ("pending", "HTTP 503", 503)


def test_a_final_failure_keeps_an_earlier_page_title(user):
    bookmark = make_bookmark(user, page_title="Earlier title")
    services.record_fetch(bookmark, PageMetadata(url=bookmark.url, http_status=404, error="HTTP 404"))
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
    services.record_fetch(services.begin_fetch(bookmark.pk), failure, final=False)
    services.record_fetch(services.begin_fetch(bookmark.pk), found(bookmark.url))
    bookmark.refresh_from_db()
    assert bookmark.fetch_attempts == 2


def test_a_task_delivered_again_counts_the_attempt_its_dead_worker_lost(user):
    bookmark = make_bookmark(user)
    claimed = services.begin_fetch(bookmark.pk, redelivered=True)
    services.record_fetch(claimed, found(bookmark.url))
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
    assert services.record_fetch(claimed, metadata)
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


def fetches_queued(callbacks: list) -> list:
    """The on-commit callbacks that queue fetches (others mark the owner's bookmarks changed)."""
    return [callback for callback in callbacks if callback.__qualname__.startswith("queue_fetches.")]


def test_saving_a_new_url_queues_its_fetch_on_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.save_url(user, "https://example.com/new-page")
    assert len(fetches_queued(callbacks)) == 1
    assert Bookmark.objects.get(url="https://example.com/new-page").status == "pending"


def test_resaving_a_known_url_queues_nothing(user, django_capture_on_commit_callbacks):
    make_bookmark(user, url="https://example.com/known", status="ok")
    with django_capture_on_commit_callbacks() as callbacks:
        services.save_url(user, "https://example.com/known", note="again")
    assert fetches_queued(callbacks) == []

"""Saving a bookmark gets its page metadata through Redis and a real Celery worker."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bookmarks import services
from bookmarks.fetching import finished as finished_stream
from bookmarks.models import Bookmark
from bookmarks.normalize import fallback_title
from bookmarks.tasks import fetch_metadata
from devstack.processes import kill_process, stop_process
from favsite.redis import redis_client
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import celery_subprocess_env, purge_queues, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def finished(bookmark: Bookmark, timeout: float = 20.0) -> Bookmark:
    return wait_for(
        lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.status != Bookmark.Status.PENDING, timeout=timeout
    )


def page(title: str, head: str = "") -> str:
    return f"<html><head>{head}<title>{title}</title></head><body><p>x</p></body></html>"


def test_a_saved_url_gets_its_page_title_from_the_worker(celery_worker, page_server):
    url = page_server.route("/", page("Hello from the page", '<meta name="description" content="About it">'))
    bookmark = finished(make_bookmark(make_user(), url=url))
    assert (bookmark.status, bookmark.page_title, bookmark.description) == ("ok", "Hello from the page", "About it")
    assert (bookmark.http_status, bookmark.fetch_error, bookmark.fetch_attempts) == (200, "", 1)
    assert bookmark.final_url == url and bookmark.fetched_at is not None


def test_titles_in_several_encodings_arrive_through_the_worker(celery_worker, page_server):
    user = make_user()
    cases = {
        "/gbk": (page("朱镕基的收藏", '<meta charset="gb2312">').encode("gbk"), "text/html", "朱镕基的收藏"),
        "/big5": (page("繁體中文網站").encode("big5"), "text/html; charset=big5", "繁體中文網站"),
        "/sjis": (page("日本語", '<meta charset="shift_jis">').encode("shift_jis"), "text/html", "日本語"),
    }
    saved = {}
    for path, (body, content_type, _title) in cases.items():
        url = page_server.route(path, body, headers={"Content-Type": content_type})
        saved[path] = make_bookmark(user, url=url)
    for path, (_body, _type, title) in cases.items():
        assert finished(saved[path]).page_title == title


def test_a_typed_title_is_never_overwritten_by_the_fetch(celery_worker, page_server):
    url = page_server.route("/", page("What the page says"))
    bookmark = finished(make_bookmark(make_user(), url=url, title="What I typed"))
    assert (bookmark.title, bookmark.page_title, bookmark.display_title) == (
        "What I typed",
        "What the page says",
        "What I typed",
    )


def test_a_missing_page_fails_at_once_without_retries(celery_worker, page_server):
    url = page_server.url("/missing")
    bookmark = finished(make_bookmark(make_user(), url=url))
    assert (bookmark.status, bookmark.http_status, bookmark.fetch_error) == ("failed", 404, "HTTP 404")
    assert bookmark.fetch_attempts == 1
    assert page_server.requests == ["/missing"]
    assert bookmark.display_title == fallback_title(url)  # readable


def test_a_refused_address_fails_at_once_and_says_why(celery_worker, page_server, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    bookmark = finished(make_bookmark(make_user(), url=page_server.url("/")))
    assert bookmark.status == "failed"
    assert bookmark.fetch_error == "blocked: 127.0.0.1 is not a public address"
    assert bookmark.fetch_attempts == 1


def test_a_server_error_is_retried_three_times_then_fails(celery_worker, page_server, settings):
    settings.FETCH_RETRY_DELAY = 0.05
    url = page_server.route("/", "busy", status=503)
    bookmark = finished(make_bookmark(make_user(), url=url))
    assert (bookmark.status, bookmark.http_status, bookmark.fetch_error) == ("failed", 503, "HTTP 503")
    assert bookmark.fetch_attempts == 4
    assert page_server.requests == ["/"] * 4


def test_a_server_error_that_recovers_ends_ok(celery_worker, page_server, settings):
    settings.FETCH_RETRY_DELAY = 0.3
    url = page_server.route("/", "busy", status=503)
    bookmark = make_bookmark(make_user(), url=url)
    page_server.wait_for_request("/")
    page_server.route("/", page("Back again"))
    bookmark = finished(bookmark)
    assert (bookmark.status, bookmark.page_title, bookmark.fetch_error) == ("ok", "Back again", "")


def test_a_chat_links_fetch_is_named_on_the_finished_stream_once_when_it_has_ended(
    celery_worker, page_server, settings
):
    settings.FETCH_RETRY_DELAY = 0.05
    client = redis_client()
    client.delete(finished_stream.stream_name())
    url = page_server.route("/", "busy", status=500)
    bookmark = services.save_url(make_user(), url, source=Bookmark.Source.IM).bookmark
    bookmark = finished(bookmark)
    entries = wait_for(lambda: client.xrange(finished_stream.stream_name()), bool)
    time.sleep(0.3)  # nothing more comes
    assert bookmark.status == "failed"
    assert [fields for _id, fields in entries] == [{b"bookmarks": str(bookmark.pk).encode()}]
    assert len(client.xrange(finished_stream.stream_name())) == 1


def test_running_the_task_twice_changes_nothing_more(page_server):
    # No worker in this test: the task runs here, twice.
    bookmark = make_bookmark(make_user(), url=page_server.route("/", page("Once")))
    assert fetch_metadata.apply(args=(bookmark.pk,)).get() == "ok"
    first = Bookmark.objects.get(pk=bookmark.pk)
    assert fetch_metadata.apply(args=(bookmark.pk,)).get() == "skipped"
    assert Bookmark.objects.get(pk=bookmark.pk).__dict__ | {"_state": None} == first.__dict__ | {"_state": None}
    assert page_server.requests == ["/"]


def test_the_task_returns_quietly_for_a_deleted_bookmark():
    assert fetch_metadata.apply(args=(987654321,)).get() == "skipped"


def test_refresh_fetches_the_title_again_and_keeps_the_old_one_meanwhile(celery_worker, page_server):
    url = page_server.route("/", page("Old title"))
    bookmark = finished(make_bookmark(make_user(), url=url))
    page_server.route("/", page("New title"))
    refreshed = services.refresh_metadata(bookmark)
    assert (refreshed.status, refreshed.page_title) == ("pending", "Old title")
    assert finished(refreshed).page_title == "New title"


def test_changing_the_url_fetches_the_new_page(celery_worker, page_server):
    bookmark = finished(make_bookmark(make_user(), url=page_server.route("/one", page("One"))))
    services.edit_bookmark(bookmark, url=page_server.route("/two", page("Two")), title="", tags="", note="")
    assert finished(Bookmark.objects.get(pk=bookmark.pk)).page_title == "Two"


def test_the_sweep_recovers_a_bookmark_whose_task_was_lost(page_server):
    bookmark = make_bookmark(make_user(), url=page_server.route("/", page("Recovered")))
    purge_queues()  # Redis lost the task
    Bookmark.objects.filter(pk=bookmark.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with running_worker():
        assert services.sweep_stale_fetches() == (1, 0)
        bookmark = finished(bookmark)
    assert (bookmark.status, bookmark.page_title) == ("ok", "Recovered")


def saved_seconds_ago(seconds: float, **fields) -> Bookmark:
    """A pending bookmark saved ``seconds`` ago and untouched since, as if its task never reached the broker."""
    bookmark = make_bookmark(make_user(), **fields)
    when = timezone.now() - timedelta(seconds=seconds)
    Bookmark.objects.filter(pk=bookmark.pk).update(created_at=when, updated_at=when)
    return bookmark


def test_a_fresh_save_whose_task_was_lost_is_fetched_within_a_minute(page_server):
    bookmark = saved_seconds_ago(45, url=page_server.route("/", page("Lost before the broker")))
    purge_queues()  # the broker was down when it was saved, or the saving process died
    with running_worker():
        assert services.requeue_unsent() == 1
        assert finished(bookmark).page_title == "Lost before the broker"


def test_a_save_queued_again_waits_as_long_again_before_the_next_time():
    saved_seconds_ago(45)
    now = timezone.now()
    assert services.requeue_unsent(now) == 1
    assert services.requeue_unsent(now) == 0  # touched: its new task has 45 s before it is doubted
    assert services.requeue_unsent(now + timedelta(seconds=40)) == 0
    assert services.requeue_unsent(now + timedelta(seconds=50)) == 1  # that task was lost too (Redis wiped)


def test_a_save_already_tried_is_left_to_its_retries_and_the_sweep():
    bookmark = saved_seconds_ago(45)
    Bookmark.objects.filter(pk=bookmark.pk).update(fetch_attempts=1)
    assert services.requeue_unsent() == 0


def test_a_save_younger_than_fetch_requeue_after_is_left_to_its_task():
    saved_seconds_ago(5)
    assert services.requeue_unsent() == 0


def test_imported_bookmarks_are_not_queued_again_early():
    saved_seconds_ago(45, source=Bookmark.Source.IMPORT)
    assert services.requeue_unsent() == 0


def test_the_sweep_leaves_recent_pending_bookmarks_alone():
    make_bookmark(make_user())
    assert services.sweep_stale_fetches() == (0, 0)


def test_the_sweep_takes_a_lost_chat_save_before_older_imported_bookmarks():
    user = make_user()
    long_ago, an_hour_ago = timezone.now() - timedelta(days=700), timezone.now() - timedelta(hours=1)
    for _ in range(3):
        make_bookmark(user, source=Bookmark.Source.IMPORT, updated_at=long_ago)
    from_chat = make_bookmark(user, source=Bookmark.Source.IM, updated_at=an_hour_ago)
    try:
        assert services.sweep_stale_fetches(batch=1) == (1, 0)
        touched = Bookmark.objects.filter(owner=user, updated_at__gt=an_hour_ago)
        assert list(touched.values_list("pk", flat=True)) == [from_chat.pk]
    finally:
        purge_queues()


def test_the_sweep_gives_up_after_the_maximum_number_of_attempts(settings):
    settings.FETCH_MAX_ATTEMPTS = 3
    bookmark = make_bookmark(make_user())
    Bookmark.objects.filter(pk=bookmark.pk).update(fetch_attempts=3, updated_at=timezone.now() - timedelta(hours=1))
    assert services.sweep_stale_fetches() == (0, 1)
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_error) == ("failed", "gave up after 3 attempts")


def _start_worker_process(env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "favsite", "worker", "-P", "solo", "-Q", "fetch", "-l", "WARNING"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def test_a_bookmark_completes_after_its_worker_is_killed_mid_task(page_server):
    purge_queues()
    visibility = 2
    env = celery_subprocess_env(CELERY_VISIBILITY_TIMEOUT=str(visibility), **page_server.allow_env)
    url = page_server.route("/", hang=60)  # the first worker gets stuck here
    first = _start_worker_process(env)
    second = None
    try:
        bookmark = make_bookmark(make_user(), url=url)
        page_server.wait_for_request("/", timeout=30)
        kill_process(first)
        page_server.route("/", page("Survived"))
        time.sleep(visibility + 0.5)  # the message becomes visible again after the visibility timeout
        second = _start_worker_process(env)
        bookmark = finished(bookmark, timeout=30)
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)
    assert (bookmark.status, bookmark.page_title) == ("ok", "Survived")
    assert bookmark.fetch_attempts == 2


def test_a_fetch_whose_announcement_cannot_reach_redis_still_records_its_result(page_server, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there: the gateway's sweep confirms it later
    url = page_server.route("/", page("Still saved"))
    bookmark = services.save_url(make_user(), url, source=Bookmark.Source.IM).bookmark
    assert fetch_metadata.apply(args=(bookmark.pk,)).get() == "ok"  # no worker: the task runs here
    assert Bookmark.objects.get(pk=bookmark.pk).page_title == "Still saved"

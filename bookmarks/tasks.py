"""Celery tasks of the bookmarks app. They receive ids, re-read rows, and write through ``bookmarks.services``."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from bookmarks import services
from bookmarks.interchange import import_jobs
from bookmarks.mail import send_email  # noqa: F401 (the worker finds the mail tasks here)
from bookmarks.models import Bookmark
from bookmarks.reset_mail import send_password_reset  # noqa: F401 (likewise)
from bookmarks.services import fair_share

MAX_RETRIES = 3
TEXT_RETRIES = 2


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fetch_metadata(self, bookmark_id: int, deferrals: int = 0) -> str:
    """Fetch the page of a pending bookmark and record what it says.

    Timeouts, connection errors and 5xx are retried with growing delays (at
    most ``MAX_RETRIES`` times); refusals, 4xx and non-HTML are final. A
    bookmark that is gone or no longer pending is skipped, so a duplicate
    delivery does nothing. The fetcher keeps its own deadline (the threads
    pool ignores Celery's time limits). A task delivered again after its
    worker died counts the lost attempt first (``services.begin_fetch``).
    When the owner already has ``FETCH_USER_SLOTS`` fetches running
    (``services.fair_share``), the task is queued again for later
    (``deferrals`` counts how often) and its thread goes to someone else.
    """
    # Loaded here, not at the top: every process that sends a task (the gateway, the web) imports this
    # module through Celery, and the fetcher's parsers are the worker's alone.
    from bookmarks.fetching.metadata import fetch_page_metadata

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    bookmark = services.begin_fetch(bookmark_id, redelivered=redelivered)
    if bookmark is None:
        return "skipped"
    with fair_share.fetch_slot(bookmark.owner_id, returning=deferrals > 0) as free:
        if not free:
            wait = fair_share.wait_before_retaking(bookmark.owner_id)
            services.defer_fetch(bookmark_id, deferrals=deferrals + 1, retries=self.request.retries, countdown=wait)
            return "deferred"
        metadata = fetch_page_metadata(bookmark.url)
    retry = metadata.retryable and self.request.retries < MAX_RETRIES
    services.record_fetch(bookmark, metadata, final=not retry)
    if retry:
        raise self.retry(countdown=settings.FETCH_RETRY_DELAY * 3**self.request.retries)
    return "ok" if metadata.ok else "failed"


@shared_task(bind=True, max_retries=TEXT_RETRIES, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def keep_page_text(self, bookmark_id: int) -> str:
    """Fetch the page of a bookmark whose text is owed and keep its readable text (``services.texts``).

    Queued on ``text`` at the lowest priority after the title fetch. Timeouts,
    connection errors and 5xx are retried (at most ``TEXT_RETRIES`` times);
    a bookmark gone, no longer owed, or whose owner turned keeping off is
    skipped, so a duplicate delivery does nothing.
    """
    from bookmarks.fetching.text import fetch_page_text  # the worker's alone (trafilatura)

    bookmark = services.begin_text(bookmark_id)
    if bookmark is None:
        return "skipped"
    found = fetch_page_text(bookmark.url)
    retry = found.retryable and self.request.retries < TEXT_RETRIES
    services.record_text(bookmark, found, final=not retry)
    if retry:
        raise self.retry(countdown=settings.FETCH_RETRY_DELAY * 3**self.request.retries)
    return found.kind


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fetch_favicon(host: str) -> str:
    """Fetch the icon of a host whose icon is owed and keep our redrawing of it (``services.favicons``).

    Queued on ``favicon`` at the lowest priority after a title fetch; not
    retried (a host without an icon is asked again a day later, when another
    of its pages is fetched). A host whose icon is not owed is skipped, so a
    duplicate delivery does nothing.
    """
    from bookmarks.fetching.favicons import fetch_favicon as fetch  # the worker's alone (Pillow)
    from bookmarks.services import favicons

    row = favicons.begin_favicon(host)
    if row is None:
        return "skipped"
    found = fetch([row.page_icon_url, f"{row.origin}/favicon.ico" if row.origin else ""])
    favicons.record_favicon(row, found)
    return "ok" if found.png else "none"


@shared_task(ignore_result=True)
def sweep_favicons() -> int:
    """Beat: send again the icon fetches lost on the way (``services.favicons``)."""
    from bookmarks.services import favicons

    return favicons.sweep_favicons()


@shared_task(ignore_result=True)
def sweep_page_texts() -> dict[str, int]:
    """Beat: queue again texts lost on the way, and the texts of older bookmarks, a bounded number a minute."""
    again, new = services.sweep_page_texts()
    return {"again": again, "new": new}


@shared_task(ignore_result=True)
def sweep_link_checks() -> dict[str, int]:
    """Beat: check the links due (``services.health``), one after another, a bounded number a minute."""
    from bookmarks.fetching.health import check_link
    from bookmarks.services import health

    return dict(health.sweep_link_checks(check_link))


@shared_task(acks_late=True, ignore_result=True)
def check_links_now(bookmark_ids: list[int]) -> dict[str, int]:
    """Check these links now ("check now" on a row, "re-check" in bulk actions), one after another."""
    from bookmarks.fetching.health import check_link
    from bookmarks.services import health

    bookmarks = Bookmark.objects.filter(pk__in=bookmark_ids).exclude(status=Bookmark.Status.PENDING)
    return dict(health.check_now(bookmarks, check_link))


@shared_task(ignore_result=True)
def sweep_stale_fetches() -> dict[str, int]:
    """Beat: queue again bookmarks left pending too long; give up on those tried too often."""
    queued, given_up = services.sweep_stale_fetches()
    return {"queued": queued, "given_up": given_up}


@shared_task(ignore_result=True)
def requeue_unsent_fetches() -> int:
    """Beat, every few seconds: queue once more fresh saves whose task may never have reached the broker."""
    return services.requeue_unsent()


@shared_task(acks_late=True, ignore_result=True)
def run_import_job(job_id: int) -> str:
    """Import an uploaded bookmark file (``interchange.import_jobs``); the page polls the job's progress."""
    return import_jobs.run_job(job_id)

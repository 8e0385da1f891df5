"""A bookmark's page fetch: queued after commit, begun, recorded once, swept when lost.

The row is the durable record: a ``pending`` bookmark is one whose fetch has
not ended. A task lost with Redis or a dead worker is queued again by the
beat sweep (``sweep_stale_fetches``); every step checks the row's state in
its own statement, so a fetch run twice changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DurationField, ExpressionWrapper, F, QuerySet, Value, When
from django.utils import timezone

from bookmarks.fetching import finished
from bookmarks.models import Bookmark
from bookmarks.services import favicons, texts
from bookmarks.services.changes import mark_changed
from bookmarks.services.publish import publish
from favsite.celery import app

if TYPE_CHECKING:  # the fetcher (lxml, charset_normalizer) is the worker's alone
    from bookmarks.fetching.metadata import PageMetadata

log = logging.getLogger(__name__)

# By name: the task module imports these services, so they cannot import it.
FETCH_TASK = "bookmarks.tasks.fetch_metadata"
ERROR_MAX_LENGTH = 500


def queue_fetches(bookmark_ids: list[int]) -> None:
    """Queue ``fetch_metadata`` for these bookmarks once the current transaction commits (at once outside one)."""
    if bookmark_ids:
        ids = list(bookmark_ids)
        transaction.on_commit(lambda: send_fetches(ids))


def send_fetches(bookmark_ids: list[int]) -> None:
    """Publish one fetch task per bookmark; a failure leaves them pending, to the sweeps."""
    publish(FETCH_TASK, [(pk,) for pk in bookmark_ids], then="the sweep will retry")


def defer_fetch(bookmark_id: int, *, deferrals: int, retries: int, countdown: float) -> bool:
    """Queue the fetch of a bookmark again in ``countdown`` seconds: its owner had no free fetch slot.

    The task carries how often it was deferred (``deferrals``, for the wait)
    and its retry count as it was (``retries``): a deferral is no attempt. If
    the broker refuses the message the row stays pending for the sweeps; whether it was queued.
    """
    try:
        app.send_task(
            FETCH_TASK, args=(bookmark_id,), kwargs={"deferrals": deferrals}, countdown=countdown, retries=retries
        )
    except Exception:  # the row stays pending; the sweeps queue it again later
        log.warning("could not queue the deferred fetch of %s; the sweep will retry", bookmark_id, exc_info=True)
        return False
    return True


def refresh_metadata(bookmark: Bookmark) -> Bookmark:
    """Fetch the page again ("refresh title"). The current title stays until a new one arrives."""
    with transaction.atomic():
        Bookmark.objects.filter(pk=bookmark.pk).update(
            status=Bookmark.Status.PENDING, fetch_attempts=0, fetch_error="", updated_at=timezone.now()
        )
        queue_fetches([bookmark.pk])
        mark_changed([bookmark.owner_id])
    bookmark.refresh_from_db()
    return bookmark


def begin_fetch(bookmark_id: int, *, redelivered: bool = False) -> Bookmark | None:
    """The pending bookmark a fetch attempt is for; None when it is gone, no longer pending, or given up.

    ``redelivered``: the broker handed this task out before and got no
    acknowledgement (the worker died with it). That lost attempt is counted
    now, and a bookmark tried ``FETCH_MAX_ATTEMPTS`` times is given up
    (failed, and announced as such) instead of fetched again: a page that
    kills the worker cannot take it down forever.
    """
    pending = Bookmark.objects.filter(pk=bookmark_id, status=Bookmark.Status.PENDING)
    if not redelivered:
        return pending.first()
    now = timezone.now()
    with transaction.atomic():
        if not pending.update(fetch_attempts=F("fetch_attempts") + 1, updated_at=now):
            return None
        bookmark = pending.first()
        if bookmark is not None and bookmark.fetch_attempts >= settings.FETCH_MAX_ATTEMPTS:
            _give_up(pending, bookmark.fetch_attempts, now)
            return None
    return bookmark


def record_fetch(bookmark: Bookmark, metadata: PageMetadata, *, final: bool = True) -> bool:
    """Store what a fetch of ``bookmark`` (as ``begin_fetch`` read it) found, and count the attempt.

    ``final=False``: a retry follows; only the error is noted. A final result
    sets ``ok`` or ``failed`` and is announced after commit. Written only if
    the bookmark is still pending at the same URL (a link edited meanwhile
    gets no stale result); whether it was written.
    The title the person typed (``title``) is never touched.
    """
    now = timezone.now()
    fields: dict[str, object] = {"http_status": metadata.http_status, "fetch_error": (metadata.error or "")[:500]}
    if final:
        fields.update(final_url=metadata.final_url, fetched_at=now, status=Bookmark.Status.FAILED)
        if metadata.ok:
            fields.update(
                status=Bookmark.Status.OK,
                page_title=metadata.title[:500],
                description=metadata.description,
                site_name=metadata.site_name[:200],
                favicon_url=metadata.favicon_url,
                image_url=metadata.image_url,
            )
        # A failed fetch keeps any earlier page title; display_title falls back to the URL.
    still_pending = Bookmark.objects.filter(pk=bookmark.pk, status=Bookmark.Status.PENDING, url=bookmark.url)
    written = still_pending.update(fetch_attempts=F("fetch_attempts") + 1, updated_at=now, **fields)
    if written and final:
        _announce([bookmark])
        mark_changed([bookmark.owner_id])
        texts.after_title_fetch(bookmark, metadata)
        favicons.after_title_fetch(bookmark.url, metadata)
    return bool(written)


def sweep_stale_fetches(now: datetime | None = None, batch: int = 1000) -> tuple[int, int]:
    """Queue again bookmarks left pending too long (lost task, dead worker); give up on the over-tried.

    Returns (queued again, given up). A row is touched before it is queued,
    so the next sweep leaves it alone until it is stale again.
    """
    now = now or timezone.now()
    stale = Bookmark.objects.filter(
        status=Bookmark.Status.PENDING, updated_at__lt=now - timedelta(seconds=settings.FETCH_STALE_AFTER)
    )
    queued: list[int] = []
    given_up = 0
    # Saves from chat, the web and the API before imported bookmarks: an
    # import of thousands of untitled links (which carry the file's old
    # dates) must not hold a chat save whose task was lost behind it.
    imported_last = Case(When(source=Bookmark.Source.IMPORT, then=Value(1)), default=Value(0))
    oldest_first = stale.order_by(imported_last, "updated_at", "id")
    for bookmark_id, attempts in oldest_first.values_list("id", "fetch_attempts")[:batch]:
        with transaction.atomic():
            if attempts >= settings.FETCH_MAX_ATTEMPTS:
                given_up += _give_up(stale.filter(pk=bookmark_id), attempts, now)
            elif stale.filter(pk=bookmark_id).update(updated_at=now):
                queued.append(bookmark_id)
    send_fetches(queued)
    return len(queued), given_up


def requeue_unsent(now: datetime | None = None, batch: int = 1000) -> int:
    """Queue once more, soon, the fetch of a fresh save whose task may never have reached the broker.

    A task is published after the commit that saved its bookmark; if the
    broker was down then, or the process (a gateway, a web worker) died in
    between, or Redis lost its queue, the bookmark stays pending with no task.
    Bookmarks saved from chat, the web or the API that are still pending,
    never tried (``fetch_attempts`` 0), ``FETCH_REQUEUE_AFTER`` seconds after
    they were saved or last queued here are queued again, and touched. Each
    time the wait doubles: a row queued again at age A waits A more seconds
    before the next time (20, 40, 80, ... s), so a task lost twice (queued
    again, then Redis wiped) is recovered in seconds too, while a long backlog
    gets a few duplicates at most, each a fetch that finds the work done.
    From ``FETCH_STALE_AFTER`` on, ``sweep_stale_fetches`` takes over. If a
    first task was only waiting behind others, the second finds the fetch
    done and does nothing. Imports are left to ``sweep_stale_fetches``:
    thousands of untitled links queue behind each other by design. Returns how many.
    """
    now = now or timezone.now()
    age_when_touched = ExpressionWrapper(F("updated_at") - F("created_at"), output_field=DurationField())
    waited_since = ExpressionWrapper(Value(now) - F("updated_at"), output_field=DurationField())
    fresh = (
        Bookmark.objects.filter(
            status=Bookmark.Status.PENDING,
            fetch_attempts=0,
            created_at__gte=now - timedelta(seconds=settings.FETCH_STALE_AFTER),
            updated_at__lt=now - timedelta(seconds=settings.FETCH_REQUEUE_AFTER),
        )
        .exclude(source=Bookmark.Source.IMPORT)
        .alias(age_when_touched=age_when_touched, waited_since=waited_since)
        .filter(age_when_touched__lt=F("waited_since"))
    )
    queued = [pk for pk in fresh.order_by("created_at", "id").values_list("id", flat=True)[:batch]]
    if queued:
        fresh.filter(pk__in=queued).update(updated_at=now)
        send_fetches(queued)
        log.info("queued %d fetches again that may never have been sent", len(queued))
    return len(queued)


def _give_up(pending: QuerySet[Bookmark], attempts: int, now: datetime) -> bool:
    """Mark the one bookmark of ``pending`` failed if it still is, and announce it; whether it was."""
    error = f"gave up after {attempts} attempts"
    bookmark = pending.first()
    if bookmark is None or not pending.update(
        status=Bookmark.Status.FAILED, fetch_error=error, fetched_at=now, updated_at=now
    ):
        return False
    _announce([bookmark])
    mark_changed([bookmark.owner_id])
    return True


def _announce(bookmarks: list[Bookmark]) -> None:
    """After the commit that ended their fetches: chat bookmarks on the stream the gateway confirms from."""
    chat = [bookmark.pk for bookmark in bookmarks if bookmark.source == Bookmark.Source.IM]
    if chat:
        transaction.on_commit(lambda: finished.announce(chat))

"""A bookmark's kept page text: queued after its title fetch, recorded once, swept for older bookmarks.

The ``PageText`` row is the durable record, as the bookmark row is for the
title fetch: ``pending`` means a text fetch is owed. The task is queued
after commit on the ``text`` queue at the lowest priority, so title fetches
(and everything else the worker does) go first; a task lost with Redis is
queued again by the beat sweep, which also brings text to bookmarks saved
before text was kept, a bounded number a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from bookmarks.models import Bookmark, PageText, Preferences, pairs_for
from bookmarks.services.publish import publish

if TYPE_CHECKING:  # the fetcher (trafilatura, lxml) is the worker's alone
    from bookmarks.fetching.metadata import PageMetadata
    from bookmarks.fetching.text import PageText as FetchedText

log = logging.getLogger(__name__)

TEXT_TASK = "bookmarks.tasks.keep_page_text"
TEXT_QUEUE = "text"
# Redis takes priority 0 first and 9 last, across all the queues a worker reads.
TEXT_PRIORITY = 9
# A pending text untouched this long was lost (Redis, a dead worker): the sweep queues it again.
PENDING_STALE_AFTER = timedelta(hours=1)
_TEXT_TYPES = {"", "text/html", "application/xhtml+xml", "text/plain"}
_STATE_OF_KIND = {
    "text": PageText.State.KEPT,
    "empty": PageText.State.EMPTY,
    "not_text": PageText.State.NOT_TEXT,
    "failed": PageText.State.FAILED,
}


def keeping_owners() -> Exists:
    """A condition on bookmarks: their owner has not turned text keeping off (on without a preference row)."""
    return ~Exists(Preferences.objects.filter(user=OuterRef("owner"), keep_text=False))


def keeps_text(user: AbstractBaseUser) -> bool:
    return not Preferences.objects.filter(user=user, keep_text=False).exists()


def after_title_fetch(bookmark: Bookmark, metadata: PageMetadata) -> None:
    """Called by the code that records a final title fetch: owe the page's text, or note it has none.

    A page (HTML or plain text) that answered 2xx gets a pending row and a
    task after commit; a PDF or an image gets a ``not_text`` row, no fetch.
    Nothing for a failed fetch, or when the owner keeps no text.
    """
    status = metadata.http_status or 0
    if not 200 <= status < 300 or not keeps_text(bookmark.owner):
        return
    now = timezone.now()
    if metadata.content_type in _TEXT_TYPES:
        PageText.objects.update_or_create(
            bookmark=bookmark, defaults={"state": PageText.State.PENDING, "queued_at": now, "error": ""}
        )
        queue_texts([bookmark.pk])
        return
    PageText.objects.update_or_create(
        bookmark=bookmark,
        defaults={
            "state": PageText.State.NOT_TEXT,
            "text": "",
            "word_count": 0,
            "content_type": metadata.content_type[:100],
            "extracted_at": now,
            "queued_at": now,
        },
    )


def queue_texts(bookmark_ids: list[int]) -> None:
    """Queue ``keep_page_text`` for these bookmarks once the current transaction commits."""
    if bookmark_ids:
        ids = list(bookmark_ids)
        transaction.on_commit(lambda: send_texts(ids))


def send_texts(bookmark_ids: Iterable[int]) -> None:
    """Publish one text task per bookmark at the lowest priority; a failure leaves them to the sweep."""
    args = [(pk,) for pk in bookmark_ids]
    publish(TEXT_TASK, args, queue=TEXT_QUEUE, priority=TEXT_PRIORITY, then="the sweep will retry")


def begin_text(bookmark_id: int) -> Bookmark | None:
    """The bookmark whose text is owed; None when it is gone, no longer owed, or its owner turned keeping off."""
    owed = Exists(PageText.objects.filter(bookmark=OuterRef("pk"), state=PageText.State.PENDING))
    return Bookmark.objects.filter(owed, keeping_owners(), pk=bookmark_id).first()


def record_text(bookmark: Bookmark, found: FetchedText, *, final: bool = True) -> bool:
    """Store what a text fetch found for ``bookmark`` if its text is still owed at the same URL; whether it was.

    ``final=False``: a retry follows; only the error is noted.
    """
    now = timezone.now()
    owed = PageText.objects.filter(bookmark_id=bookmark.pk, state=PageText.State.PENDING, bookmark__url=bookmark.url)
    if not final:
        return bool(owed.update(error=found.error[:500], queued_at=now))
    return bool(
        owed.update(
            state=_STATE_OF_KIND[found.kind],
            text=found.text,
            pairs=pairs_for(found.text),
            language=found.language[:35],
            word_count=found.word_count,
            content_type=found.content_type[:100],
            error=found.error[:500],
            extracted_at=now,
        )
    )


def owed_texts(user: AbstractBaseUser | None = None, *, every: bool = False) -> QuerySet[Bookmark]:
    """Bookmarks with a fetched title and no text row yet (``every``: all of them), oldest first."""
    bookmarks = Bookmark.objects.filter(keeping_owners(), status=Bookmark.Status.OK)
    if user is not None:
        bookmarks = bookmarks.filter(owner=user)
    if not every:
        bookmarks = bookmarks.exclude(Exists(PageText.objects.filter(bookmark=OuterRef("pk"))))
    return bookmarks.order_by("id")


def claim_texts(bookmark_ids: list[int], now: datetime | None = None) -> None:
    """Mark these bookmarks' texts owed (the sweep and the command do, before fetching or queueing)."""
    now = now or timezone.now()
    rows = [PageText(bookmark_id=pk, state=PageText.State.PENDING, queued_at=now) for pk in bookmark_ids]
    PageText.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["bookmark"], update_fields=["state", "queued_at"]
    )


def sweep_page_texts(now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Beat: queue the texts lost on the way, then those of older bookmarks, ``limit`` in all; (again, new)."""
    now = now or timezone.now()
    limit = settings.TEXT_SWEEP_PER_MINUTE if limit is None else limit
    stale = PageText.objects.filter(state=PageText.State.PENDING, queued_at__lt=now - PENDING_STALE_AFTER)
    again = list(stale.order_by("queued_at").values_list("bookmark_id", flat=True)[:limit])
    if again:
        PageText.objects.filter(bookmark_id__in=again).update(queued_at=now)
    new = list(owed_texts().values_list("id", flat=True)[: limit - len(again)]) if limit > len(again) else []
    claim_texts(new, now)
    send_texts(again + new)
    return len(again), len(new)


def set_text_keeping(user: AbstractBaseUser, keep: bool) -> int:
    """Turn text keeping on or off for ``user``; off deletes every text kept for them. How many were deleted."""
    with transaction.atomic():
        Preferences.objects.update_or_create(user=user, defaults={"keep_text": keep})
        if keep:
            return 0
        _total, per_model = PageText.objects.filter(bookmark__owner=user).delete()
    return per_model.get(PageText._meta.label, 0)

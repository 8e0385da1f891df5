"""Link health: each bookmark's link checked again now and then, its outcome recorded (``LinkHealth``).

1. The beat's sweep (``sweep_link_checks``, every minute) takes at most
   ``LINK_CHECK_PER_MINUTE`` due links, oldest due first, under a Redis lock
   so one sweep runs at a time: checks go one after another, so never more
   than one request at a time to any host (and a per-host lock keeps a
   ``check_links`` command or a "check now" off a host being checked).
2. Each link is checked with the fetcher's policy (``fetching.health``) and
   recorded (``record_check``). The next check is ``LINK_CHECK_DAYS`` later,
   shifted by a fixed per-bookmark amount (up to a tenth of the period) so
   the checks stay spread over the days; after a failure it is
   ``LINK_CHECK_CONFIRM_HOURS`` later, and a second failure at least that
   far from the first marks the link broken (with 0, the first one does).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookmarks.models import Bookmark, LinkHealth
from bookmarks.services.saving import edit_bookmark
from favsite.celery import app
from favsite.redis import redis_client

if TYPE_CHECKING:
    from bookmarks.fetching.health import CheckResult

log = logging.getLogger(__name__)

# By name: the task module imports these services.
CHECK_TASK = "bookmarks.tasks.check_links_now"
# A claimed link is left alone by other sweeps this long (a check takes at most FETCH_TIMEOUT).
CLAIM = timedelta(minutes=15)


def due_links(user: AbstractBaseUser | None = None, *, every: bool = False, now: datetime | None = None):
    """Bookmarks whose link is due a check (saved a period ago and never checked, or next check passed)."""
    now = now or timezone.now()
    bookmarks = Bookmark.objects.exclude(status=Bookmark.Status.PENDING)
    if user is not None:
        bookmarks = bookmarks.filter(owner=user)
    if not every:
        # A link never checked was just fetched when saved: its first check is a period later.
        first_due = now - timedelta(days=settings.LINK_CHECK_DAYS)
        bookmarks = bookmarks.filter(
            Q(health__isnull=True, added_at__lte=first_due) | Q(health__next_check_at__lte=now)
        )
    return bookmarks.order_by(Coalesce("health__next_check_at", "added_at"), "id")


def claim(bookmark_ids: list[int], now: datetime) -> None:
    """Put these links' next check ``CLAIM`` ahead, so another sweep does not take them meanwhile."""
    rows = [LinkHealth(bookmark_id=pk, next_check_at=now + CLAIM) for pk in bookmark_ids]
    LinkHealth.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["bookmark"], update_fields=["next_check_at"]
    )


def record_check(bookmark: Bookmark, result: CheckResult, now: datetime | None = None) -> LinkHealth:
    """Store one check's outcome; a failure counts towards "broken" (see the module docstring)."""
    now = now or timezone.now()
    health, _created = LinkHealth.objects.get_or_create(bookmark=bookmark)
    health.outcome, health.http_status, health.error = result.outcome, result.http_status, result.error[:500]
    health.final_url = result.final_url if result.outcome == LinkHealth.Outcome.MOVED else ""
    health.checked_at = now
    confirm = timedelta(hours=settings.LINK_CHECK_CONFIRM_HOURS)
    if result.failed:
        health.failures = min(health.failures + 1, 1000)
        health.failing_since = health.failing_since or now
        health.broken = health.broken or not confirm or (health.failures >= 2 and now - health.failing_since >= confirm)
    else:
        health.failures, health.failing_since, health.broken = 0, None, False
    confirming = result.failed and not health.broken
    health.next_check_at = now + (confirm if confirming else _period(bookmark.pk))
    health.save()
    return health


def _period(bookmark_id: int) -> timedelta:
    """``LINK_CHECK_DAYS``, shifted by up to a tenth of it by a fixed per-bookmark amount."""
    days = timedelta(days=settings.LINK_CHECK_DAYS or 30)
    return days + days / 10 * ((bookmark_id * 2654435761) % 1000 / 1000)


@contextlib.contextmanager
def host_lock(url: str) -> Iterator[bool]:
    """Whether this process may send a request to ``url``'s host now (one check at a time per host)."""
    key = f"{settings.XMPP_REDIS_PREFIX.rsplit(':', 1)[0]}:linkcheck:host:{urlsplit(url).hostname or ''}"
    client = redis_client()
    try:
        held = bool(client.set(key, "1", nx=True, px=int((settings.FETCH_TIMEOUT + 5) * 1000)))
    except redis.RedisError:
        held = True  # no Redis: the sweep's own order still sends one request at a time
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(redis.RedisError):
                client.delete(key)


def check_now(
    bookmarks: Iterable[Bookmark], check: Callable[[str], CheckResult], progress: Callable[[int], None] | None = None
) -> Counter[str]:
    """Check these links one after another and record each; counts by outcome ("busy": host taken, skipped)."""
    counts: Counter[str] = Counter()
    for done, bookmark in enumerate(bookmarks, start=1):
        with host_lock(bookmark.url) as free:
            if not free:
                counts["busy"] += 1
                continue
            health = record_check(bookmark, check(bookmark.url))
        counts["broken" if health.broken else health.outcome] += 1
        if progress:
            progress(done)
    return counts


def sweep_link_checks(check: Callable[[str], CheckResult], now: datetime | None = None) -> Counter[str]:
    """Beat: check the links due, at most ``LINK_CHECK_PER_MINUTE``, one sweep at a time; nothing when off."""
    if settings.LINK_CHECK_DAYS <= 0:
        return Counter()
    now = now or timezone.now()
    lock = redis_client().lock(f"{settings.XMPP_REDIS_PREFIX.rsplit(':', 1)[0]}:linkcheck:sweep", timeout=600)
    if not lock.acquire(blocking=False):
        return Counter({"skipped": 1})
    try:
        due = list(due_links(now=now)[: settings.LINK_CHECK_PER_MINUTE])
        claim([bookmark.pk for bookmark in due], now)
        return check_now(due, check)
    finally:
        with contextlib.suppress(redis.RedisError):
            lock.release()


def queue_link_checks(bookmark_ids: list[int]) -> int:
    """Check these links in the worker once the current transaction commits; how many."""
    if bookmark_ids:
        ids = list(bookmark_ids)
        transaction.on_commit(lambda: _send_checks(ids))
    return len(bookmark_ids)


def _send_checks(bookmark_ids: list[int]) -> None:
    try:
        app.send_task(CHECK_TASK, args=(bookmark_ids,))
    except Exception:  # the periodic checks still come; nothing is lost but the "now"
        log.warning("could not queue a check of %s", bookmark_ids, exc_info=True)


def use_final_url(bookmark: Bookmark) -> Bookmark:
    """Point a moved bookmark at where its link now answers (title, tags, note kept); may raise ``DuplicateURL``."""
    health = LinkHealth.objects.filter(bookmark=bookmark, outcome=LinkHealth.Outcome.MOVED).first()
    if health is None or not health.final_url:
        return bookmark
    tags = list(bookmark.tags.values_list("name", flat=True))
    bookmark = edit_bookmark(bookmark, url=health.final_url, title=bookmark.title, tags=tags, note=bookmark.note)
    LinkHealth.objects.filter(pk=health.pk).update(outcome=LinkHealth.Outcome.OK, final_url="")
    return bookmark

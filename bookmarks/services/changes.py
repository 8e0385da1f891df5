"""Whose bookmarks changed: a marker per user that the list page's live poll reads before any query.

Each service that changes what the list shows (a bookmark's ``updated_at``
moves: saved, saved again, edited, its fetch recorded or given up) calls
``mark_changed`` with the owners: a Redis key per user holds the time.
The write after the commit is the one that counts: it is never older than
the change's ``updated_at`` nor than its commit. Inside a transaction the
marker is also written at once; that one only matters where a transaction
never commits (the tests' rolled-back transactions), and costs one more
Redis round trip inside a save. ``changed_since`` tells the live poll
whether anything may have changed after its cursor, with one Redis read
and no database query. Without a marker (it expired, Redis restarted) or
without Redis, the answer is "maybe", and the poll queries as before. For
a few seconds after a change (the live view's overlap) polls still query.

Changes that move no ``updated_at`` (tags added in bulk, a sweep that
only queues a fetch again) are not shown by the live poll and need no mark.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime

import redis
from django.conf import settings
from django.db import transaction

from favsite.redis import redis_client

log = logging.getLogger(__name__)

# A marker outlives any open tab's cursor by far; an expired one costs one query.
MARKER_SECONDS = 24 * 3600


def marker_key(user_id: int) -> str:
    """Under Celery's key prefix (``CELERY_KEY_PREFIX``): sites or test runs sharing one Redis keep apart."""
    return f"{settings.TASK_KEY_PREFIX}favsite:bookmarks-changed:{user_id}"


def mark_changed(owner_ids: Iterable[int]) -> None:
    """Note that these users' bookmarks changed: now, and again once the current transaction commits."""
    ids = sorted(set(owner_ids))
    if ids:
        _write(ids)
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: _write(ids))


def _write(user_ids: list[int]) -> None:
    now = repr(time.time())
    try:
        pipeline = redis_client().pipeline(transaction=False)
        for user_id in user_ids:
            pipeline.set(marker_key(user_id), now, ex=MARKER_SECONDS)
        pipeline.execute()
    except redis.RedisError:  # readers find an old or no marker only if it never came: see below
        log.warning("could not mark the bookmarks of users %s changed", user_ids, exc_info=True)
        _forget(user_ids)


def _forget(user_ids: list[int]) -> None:
    """After a failed write, try to drop the markers: an old one left behind would hide the change."""
    try:
        redis_client().delete(*(marker_key(user_id) for user_id in user_ids))
    except redis.RedisError:
        log.warning("could not drop the change markers of users %s either", user_ids)


def changed_since(user_id: int, since: datetime) -> bool:
    """Whether ``user_id``'s bookmarks may have changed after ``since`` (True when the marker cannot say)."""
    try:
        client = redis_client()
        value = client.get(marker_key(user_id))
        if value is None:
            # No marker: this poll queries; one set now lets the next polls answer from it.
            client.set(marker_key(user_id), repr(time.time()), ex=MARKER_SECONDS, nx=True)
            return True
    except redis.RedisError:
        return True
    return float(value) > since.timestamp()

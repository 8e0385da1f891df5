"""A fair share of the fetch slots: one account's links cannot take every worker thread.

A title fetch holds its worker thread until the page answers or the
deadline (``FETCH_TIMEOUT``) passes. Sixteen links of one person to names or
servers that never answer would hold every thread of a worker for that long,
and everybody else's links would wait behind them. So each account may have
at most ``FETCH_USER_SLOTS`` fetches running at once, counted in Redis across
all worker processes and machines. A fetch over the cap is not run and not
lost: its task is queued again a little later (``services.fetches.defer_fetch``),
without counting as an attempt, while other people's fetches take the threads.

A slot is a member of the owner's sorted set in Redis, scored with the time
its lease ends (the fetch's deadline and a margin): one taken by a worker that
died frees itself then. The check and the taking are one Lua script, so two
workers never both take the last slot. Worker clocks are compared with each
other through the lease ends; a skew of a few seconds only shifts when a dead
worker's slot frees. If Redis does not answer, fetches run without a cap (and
a warning is logged): the broker is usually the same Redis, and losing the
cap is better than losing the fetch.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid
from collections.abc import Iterator
from functools import cache

import redis
from django.conf import settings

from favsite.redis import redis_client

__all__ = ["LEASE_MARGIN", "MAX_WAIT_STEPS", "fetch_slot", "running_fetches", "wait_before_retaking"]

log = logging.getLogger(__name__)

# Seconds a slot outlives its fetch's deadline before it frees itself (a worker that died holding it).
LEASE_MARGIN = 30.0
# A deferred fetch waits FETCH_USER_WAIT, then twice that, ... at most 2**MAX_WAIT_STEPS times that.
MAX_WAIT_STEPS = 5

# KEYS[1]: the owner's running fetches (token -> lease end, ms); ARGV: now, lease end, cap, token.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
"""


@contextlib.contextmanager
def fetch_slot(owner_id: int, *, now: float | None = None) -> Iterator[bool]:
    """Take one of the owner's fetch slots for the ``with`` block; yields whether it was free.

    False: the owner already has ``FETCH_USER_SLOTS`` fetches running; do not
    fetch now. ``now`` (Unix time) is for tests of leases.
    """
    token = uuid.uuid4().hex
    taken = _take(owner_id, token, time.time() if now is None else now)
    try:
        yield taken
    finally:
        if taken:
            _give_back(owner_id, token)


def running_fetches(owner_id: int) -> int:
    """How many of the owner's slots are taken now (for monitoring and tests)."""
    key = _key(owner_id)
    client = redis_client()
    client.zremrangebyscore(key, "-inf", int(time.time() * 1000))
    return client.zcard(key)


def wait_before_retaking(deferrals: int) -> float:
    """Seconds a fetch deferred ``deferrals`` times before waits until it tries for a slot again.

    Doubles with each deferral up to a ceiling, so a long queue of one
    person's links costs few wake-ups; the jitter spreads them out.
    """
    return settings.FETCH_USER_WAIT * 2 ** min(deferrals, MAX_WAIT_STEPS) * random.uniform(1.0, 1.5)


def _take(owner_id: int, token: str, now: float) -> bool:
    lease_end = now + settings.FETCH_TIMEOUT + LEASE_MARGIN
    args = [int(now * 1000), int(lease_end * 1000), settings.FETCH_USER_SLOTS, token]
    try:
        return bool(_take_script()(keys=[_key(owner_id)], args=args))
    except redis.RedisError:
        log.warning("fetch slots: Redis did not answer; fetching without the per-user cap", exc_info=True)
        return True  # the token was not stored: giving it back is a no-op


def _give_back(owner_id: int, token: str) -> None:
    try:
        redis_client().zrem(_key(owner_id), token)
    except redis.RedisError:  # the lease ends on its own
        log.warning("fetch slots: could not give a slot back; its lease frees it", exc_info=True)


def _key(owner_id: int) -> str:
    # Under Celery's key prefix: separate sites (and test runs) sharing one Redis keep separate counts.
    return f"{settings.TASK_KEY_PREFIX}favsite:fetch-slots:{owner_id}"


@cache
def _script_for(url: str) -> redis.commands.core.Script:
    return redis_client().register_script(_TAKE)


def _take_script() -> redis.commands.core.Script:
    return _script_for(settings.REDIS_URL)

"""A fair share of the fetch slots: one account's links cannot take every worker thread.

A title fetch holds its worker thread until the page answers or the
deadline (``FETCH_TIMEOUT``) passes. Sixteen links of one person to names or
servers that never answer would hold every thread of a worker for that long,
and everybody else's links would wait behind them. So each account may have
at most ``FETCH_USER_SLOTS`` fetches running at once, counted in Redis across
all worker processes and machines. A fetch over the cap is not run and not
lost: its task is queued again for later (``services.fetches.defer_fetch``),
without counting as an attempt, while other people's fetches take the threads.
How much later follows the owner's queue: its place among their waiting
fetches, at the pace their fetches have been ending (``wait_before_retaking``).

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

__all__ = ["LEASE_MARGIN", "MAX_WAIT", "fetch_slot", "running_fetches", "wait_before_retaking"]

log = logging.getLogger(__name__)

# Seconds a slot outlives its fetch's deadline before it frees itself (a worker that died holding it).
LEASE_MARGIN = 30.0
# The longest a deferred fetch waits before it tries again; far below the broker's visibility timeout.
MAX_WAIT = 120.0
# How much of the owner's pace the last fetch makes (a moving average of fetch durations).
_PACE_WEIGHT = 0.2
# The waiting count and the pace of an owner nobody hears from again are forgotten after an hour.
_STATS_TTL = 3600

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
def fetch_slot(owner_id: int, *, returning: bool = False, now: float | None = None) -> Iterator[bool]:
    """Take one of the owner's fetch slots for the ``with`` block; yields whether it was free.

    False: the owner already has ``FETCH_USER_SLOTS`` fetches running; do not
    fetch now (``wait_before_retaking`` says for how long). ``returning``: this
    fetch was deferred before and stops waiting now. ``now`` (Unix time) is
    for tests of leases.
    """
    token = uuid.uuid4().hex
    if returning:
        _stop_waiting(owner_id)
    started = time.time() if now is None else now
    taken = _take(owner_id, token, started)
    try:
        yield taken
    finally:
        if taken:
            _give_back(owner_id, token, time.time() - started)


def running_fetches(owner_id: int) -> int:
    """How many of the owner's slots are taken now (for monitoring and tests)."""
    key = _key(owner_id, "fetch-slots")
    client = redis_client()
    client.zremrangebyscore(key, "-inf", int(time.time() * 1000))
    return client.zcard(key)


def wait_before_retaking(owner_id: int) -> float:
    """Seconds a fetch over the owner's share waits before it tries again; it joins the owner's waiting fetches.

    About the time the fetches waiting before it need: its place among them,
    over ``FETCH_USER_SLOTS``, times the owner's pace (a moving average of how
    long their fetches take). So a long queue of quick pages wakes about as
    often as slots free up, and links stuck until their deadline are not
    polled every second. At least ``FETCH_USER_WAIT`` (also the wait while the
    pace is unknown), at most ``MAX_WAIT``; the jitter spreads the wake-ups.
    """
    waiting_key = _key(owner_id, "fetch-waiting")
    try:
        with redis_client().pipeline() as pipe:
            pipe.incr(waiting_key).expire(waiting_key, _STATS_TTL).get(_key(owner_id, "fetch-pace"))
            place, _, pace = pipe.execute()
    except redis.RedisError:
        log.warning("fetch slots: Redis did not answer; waiting the shortest time", exc_info=True)
        return settings.FETCH_USER_WAIT
    estimate = place / settings.FETCH_USER_SLOTS * float(pace) if pace else 0.0
    return min(max(settings.FETCH_USER_WAIT, estimate), MAX_WAIT) * random.uniform(0.8, 1.2)


def _take(owner_id: int, token: str, now: float) -> bool:
    lease_end = now + settings.FETCH_TIMEOUT + LEASE_MARGIN
    args = [int(now * 1000), int(lease_end * 1000), settings.FETCH_USER_SLOTS, token]
    try:
        return bool(_take_script()(keys=[_key(owner_id, "fetch-slots")], args=args))
    except redis.RedisError:
        log.warning("fetch slots: Redis did not answer; fetching without the per-user cap", exc_info=True)
        return True  # the token was not stored: giving it back is a no-op


def _give_back(owner_id: int, token: str, duration: float) -> None:
    pace_key = _key(owner_id, "fetch-pace")
    try:
        client = redis_client()
        client.zrem(_key(owner_id, "fetch-slots"), token)
        # Read, then written: two workers racing here only blur an average.
        pace = client.get(pace_key)
        pace = duration if pace is None else (1 - _PACE_WEIGHT) * float(pace) + _PACE_WEIGHT * duration
        client.set(pace_key, f"{pace:.3f}", ex=_STATS_TTL)
    except redis.RedisError:  # the lease ends on its own
        log.warning("fetch slots: could not give a slot back; its lease frees it", exc_info=True)


def _stop_waiting(owner_id: int) -> None:
    key = _key(owner_id, "fetch-waiting")
    try:
        if redis_client().decr(key) < 0:  # the count expired while this fetch waited
            redis_client().set(key, 0, ex=_STATS_TTL)
    except redis.RedisError:
        log.warning("fetch slots: could not count a waiting fetch back", exc_info=True)


def _key(owner_id: int, what: str) -> str:
    # Under Celery's key prefix: separate sites (and test runs) sharing one Redis keep separate counts.
    return f"{settings.TASK_KEY_PREFIX}favsite:{what}:{owner_id}"


@cache
def _script_for(url: str) -> redis.commands.core.Script:
    return redis_client().register_script(_TAKE)


def _take_script() -> redis.commands.core.Script:
    return _script_for(settings.REDIS_URL)

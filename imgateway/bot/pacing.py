"""How the bot paces itself: reconnection backoff, a rate limit per sender, and "composing" for saves in flight."""

from __future__ import annotations

import random
import time
from collections import OrderedDict

MAX_BACKOFF = 30.0


class Backoff:
    """Capped exponential backoff with jitter: 0.5-1 s, 1-2 s, ... at most 30 s."""

    def __init__(self, base: float = 1.0, cap: float = MAX_BACKOFF) -> None:
        self.base, self.cap, self.failures = base, cap, 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures = min(self.failures + 1, 16)
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


class TokenBuckets:
    """Per-JID token buckets; remembers at most ``max_entries`` JIDs (least recently seen go)."""

    def __init__(self, burst: int, per_minute: float, max_entries: int = 50_000) -> None:
        self.burst, self.rate, self.max_entries = burst, per_minute / 60.0, max_entries
        self._buckets: OrderedDict[str, list[float | bool]] = OrderedDict()

    def take(self, key: str) -> tuple[bool, bool]:
        """(allowed, notify): notify is True once per run of refusals, for one "slow down"."""
        now = time.monotonic()
        tokens, last, notified = self._buckets.pop(key, [float(self.burst), now, False])
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = [tokens - 1, now, False]
            allowed, notify = True, False
        else:
            self._buckets[key] = [tokens, now, True]
            allowed, notify = False, not notified
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)
        return allowed, notify


class Typing:
    """XEP-0085 for saves in flight: one "composing" while any of a sender's messages is being saved.

    The state is per full JID (the resource that sent the links). The first
    message in flight sends "composing"; every reply or confirmation carries
    the state that follows it: "composing" while others are still in flight,
    "active" after the last. A burst of links from one person therefore costs
    one chat state, not one per link. Remembers at most ``max_entries``
    senders; past that a sender is not counted (each of its messages shows
    "composing", each answer "active").
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._in_flight: dict[str, int] = {}

    def started(self, jid: str) -> bool:
        """A save from ``jid`` is in flight; True when "composing" must be sent (it is the only one)."""
        count = self._in_flight.get(jid, 0)
        if count or len(self._in_flight) < self.max_entries:
            self._in_flight[jid] = count + 1
        return not count

    def finished(self, jid: str) -> str:
        """A save from ``jid`` was answered or confirmed; the chat state its answer carries."""
        count = self._in_flight.pop(jid, 0) - 1
        if count > 0:
            self._in_flight[jid] = count
            return "composing"
        return "active"

    def forget(self) -> None:
        """A new session: answers still to come go out as "active" (the client forgot our state too)."""
        self._in_flight.clear()

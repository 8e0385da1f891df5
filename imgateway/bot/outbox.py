"""Sending confirmations: the gateway's reader of the stream of finished fetches.

1. Entries this consumer read but never acknowledged (it died) come first
   (cursor ``0``), then new ones (``>``).
2. Every ``CLAIM_IDLE`` seconds, entries left unacknowledged that long by
   another consumer (a gateway that died under another resource) become
   ours (``XAUTOCLAIM``); those of a gateway seen leaving (a primary, when
   this one is its standby: ``standby``) become ours at once.
3. For each batch read, the database thread says which confirmations are
   due (``imgateway.confirmations.due``); those of a person who is "do not
   disturb" are held for a digest (``imgateway.busy``); each other is sent, recorded as sent
   once the server acknowledged it (XEP-0198), and then the entries are
   acknowledged and deleted. What the server did not acknowledge (the
   connection dropped) is read and sent again after reconnecting.
Entries read while the connection drops stay unacknowledged and are read
again after reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
from django.conf import settings
from slixmpp import JID

from bookmarks.fetching import finished
from imgateway import busy, confirmations
from imgateway.bot.backlog import Backlog
from imgateway.bot.config import GatewayConfig
from imgateway.bot.pacing import Typing

log = logging.getLogger(__name__)

GROUP = "gateway"
BATCH = 50  # entries read at once
CLAIM_IDLE = 60.0  # seconds another consumer may hold an entry before it is taken over


class Bot(Protocol):
    """What sending confirmations needs of ``GatewayBot``."""

    config: GatewayConfig
    backlog: Backlog
    online: asyncio.Event
    stopping: bool
    typing: Typing
    client_roster: Any
    busy: set[str]  # bare JIDs that are "do not disturb" (``presence``)
    held: set[str]  # bare JIDs with confirmations held for a digest
    departed: set[str]  # gateways that left, whose unacknowledged entries are taken over (``standby``)
    caught_up: bool

    def send_chat_state(self, to: str, state: str) -> None: ...

    async def send_acknowledged(
        self, messages: list[tuple[str, str, str]], ids: list[str] | None = None
    ) -> list[int]: ...


async def send_confirmations(bot: Bot) -> None:
    """Run while the bot runs: read the stream, send what is due; restart after an unexpected error."""
    client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=15)
    try:
        while not bot.stopping:
            try:
                await _read_and_send(bot, client)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox loop failed; restarting it")
                await asyncio.sleep(1)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


async def _read_and_send(bot: Bot, client: aioredis.Redis) -> None:
    stream, consumer = finished.stream_name(), bot.config.resource
    await _create_group(client, stream)
    cursor, next_claim = "0", 0.0
    while not bot.stopping:
        await bot.online.wait()
        try:
            while bot.departed and bot.caught_up:  # after catching up: the archive says what it had sent
                await _claim_from(bot, client, stream, consumer, bot.departed.pop())
            if time.monotonic() >= next_claim:
                next_claim = time.monotonic() + CLAIM_IDLE
                await _claim_abandoned(bot, client, stream, consumer)
            response = await client.xreadgroup(GROUP, consumer, {stream: cursor}, count=BATCH, block=5000)
        except redis.RedisError as exc:
            if _group_lost(exc):
                # Redis restarted without its data (or the key was deleted): read what comes from the start.
                log.warning("outbox: the stream's consumer group is gone; creating it again")
                cursor = "0"
                await _create_group_or_wait(client, stream)
                continue
            log.warning("outbox: Redis unavailable (%s); retrying", exc)
            await asyncio.sleep(random.uniform(1.0, 3.0))
            continue
        entries = response[0][1] if response else []
        if cursor == "0" and not entries:
            cursor = ">"
            continue
        await _deliver(bot, client, stream, entries)
        if not bot.online.is_set():
            cursor = "0"  # read what is left again after reconnecting


async def _claim_abandoned(bot: Bot, client: aioredis.Redis, stream: str, consumer: str) -> None:
    """Take over and send entries another consumer read and left unacknowledged for ``CLAIM_IDLE``."""
    start = "0-0"
    while bot.online.is_set():
        next_start, entries, *_deleted = await client.xautoclaim(
            stream, GROUP, consumer, int(CLAIM_IDLE * 1000), start_id=start, count=BATCH
        )
        if entries:
            log.info("outbox: %d entries left by another gateway taken over", len(entries))
            await _deliver(bot, client, stream, entries)
        start = next_start.decode() if isinstance(next_start, bytes) else next_start
        if start == "0-0":
            return


async def _claim_from(bot: Bot, client: aioredis.Redis, stream: str, consumer: str, departed: str) -> None:
    """Take over at once the entries a gateway that left (``standby``) read and did not acknowledge."""
    while bot.online.is_set():
        pending = await client.xpending_range(stream, GROUP, "-", "+", BATCH, consumername=departed)
        if not pending:
            return
        ids = [entry["message_id"] for entry in pending]
        log.info("outbox: %d entries left by %s taken over", len(ids), departed)
        await _deliver(bot, client, stream, await client.xclaim(stream, GROUP, consumer, 0, ids))


async def _deliver(bot: Bot, client: aioredis.Redis, stream: str, entries: list) -> None:
    """Send the confirmations ``entries`` complete; record them sent; acknowledge and drop the entries.

    Stops early when the connection drops: what was not sent stays
    unacknowledged, to be read again after reconnecting.
    """
    read = [(entry_id, fields or {}) for entry_id, fields in entries if entry_id is not None]
    bookmark_ids: list[int] = []
    save_ids: list[int] = []
    for _entry_id, fields in read:
        bookmark_ids += [int(pk) for pk in fields.get(b"bookmarks", b"").split() if pk.isdigit()]
        save_ids += [int(pk) for pk in fields.get(b"save", b"").split() if pk.isdigit()]
    due = await bot.backlog.call(confirmations.due, bookmark_ids, save_ids) if bookmark_ids or save_ids else []
    due = await _hold_for_the_busy(bot, due)
    replies = [(_reply_address(bot, c.to), c.body, bot.typing.finished(c.to)) for c in due]
    ids = [confirmations.message_id(c.save_id) for c in due]
    acknowledged = await bot.send_acknowledged(replies, ids) if replies and bot.online.is_set() else []
    sent = [due[position].save_id for position in acknowledged]
    if sent:
        # Shielded: sent is sent, and a stop that cancels this loop must not leave it unrecorded.
        await asyncio.shield(bot.backlog.call(confirmations.mark_sent, sent))
    if read and len(sent) == len(due) and bot.online.is_set():
        handled = [entry_id for entry_id, _fields in read]
        await client.xack(stream, GROUP, *handled)
        await client.xdel(stream, *handled)


async def _hold_for_the_busy(bot: Bot, due: list[confirmations.Confirmation]) -> list[confirmations.Confirmation]:
    """Hold the confirmations of people who are "do not disturb" (``imgateway.busy``); the others, to send."""
    held = [c for c in due if c.hold_when_busy and JID(c.to).bare in bot.busy]
    if not held:
        return due
    await asyncio.shield(bot.backlog.call(busy.hold, [c.save_id for c in held]))
    for confirmation in held:
        bot.held.add(JID(confirmation.to).bare)
        if bot.typing.finished(confirmation.to) == "active":
            bot.send_chat_state(confirmation.to, "active")  # no "composing" left showing
    return [c for c in due if c not in held]


def _reply_address(bot: Bot, full: str) -> str:
    """The resource that sent the link, or the bare JID when we know it is gone."""
    jid = JID(full)
    if jid.resource and jid.bare in bot.client_roster:
        resources = bot.client_roster[jid.bare].resources
        if resources and jid.resource not in resources:
            return jid.bare
    return full


async def _create_group(client: aioredis.Redis, stream: str) -> None:
    try:
        await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if not str(exc).startswith("BUSYGROUP"):  # it exists: fine; anything else is the caller's
            raise


async def _create_group_or_wait(client: aioredis.Redis, stream: str) -> None:
    try:
        await _create_group(client, stream)
    except redis.RedisError as exc:  # NOPERM, READONLY, ...: wait, never spin
        log.warning("outbox: cannot create the consumer group (%s); retrying", exc)
        await asyncio.sleep(random.uniform(1.0, 3.0))


def _group_lost(exc: redis.RedisError) -> bool:
    """NOGROUP: the stream or its group is missing; UNBLOCKED: it was deleted during our read."""
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(("NOGROUP", "UNBLOCKED"))

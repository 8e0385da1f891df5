"""Presence: who may subscribe to the bot, whose presence the bot asks for, and who is busy.

- Subscriptions to the bot: linked addresses, and a bounded number of
  strangers (``linking.subscription_allowed``).
- The bot asks each linked address for its presence (a subscription "to"
  it): right after the address is linked in chat, and at every session
  start and every ``RECHECK_SECONDS`` for any linked address whose
  subscription is missing (linked on the web or by an operator, or
  declined or cancelled), at most once a day per address.
- Busy: an address all of whose connected resources show "dnd" is in
  ``bot.busy``; the outbox holds its confirmations (``imgateway.busy``).
  When it leaves "dnd", the digest of what was held is sent. Addresses with
  held confirmations are read from the database at every session start, so
  a digest held across a restart is sent too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import Any

from imgateway import busy, confirmations, linking
from imgateway.bot import standby

log = logging.getLogger(__name__)

RECHECK_SECONDS = 3600.0
ASK_AGAIN_AFTER = 86400.0  # seconds between two subscription requests to one address
SETTLE_SECONDS = 5.0  # after a session starts: time for the contacts' presences to arrive


def install(bot: Any) -> None:
    """Answer subscription requests ourselves (``GatewayBot`` turns slixmpp's automatic answers off)."""
    bot.busy = set()  # bare JIDs whose every resource is "dnd"
    bot.held = set()  # bare JIDs with confirmations held for a digest
    bot.asked = {}  # bare JID -> when the bot last asked it for its presence (monotonic)
    standby.install(bot)
    bot.add_event_handler("presence_subscribe", functools.partial(on_subscribe, bot))
    bot.add_event_handler("presence_unsubscribe", functools.partial(on_unsubscribe, bot))
    bot.add_event_handler("changed_status", functools.partial(on_changed_status, bot))


async def on_subscribe(bot: Any, presence: Any) -> None:
    bare = presence["from"].bare
    roster = [str(jid) for jid in bot.client_roster]
    allowed = await bot.backlog.call(linking.subscription_allowed, bare, roster)
    log.info("subscription request from %s: %s", bare, "approved" if allowed else "declined")
    if allowed:
        bot.send_presence(pto=bare, ptype="subscribed")
        bot.send_presence(pto=bare, pstatus=bot.status_line(), ppriority=bot.config.priority)
    else:
        bot.send_presence(pto=bare, ptype="unsubscribed")


async def on_unsubscribe(bot: Any, presence: Any) -> None:
    # A stranger who leaves leaves no roster entry behind.
    with contextlib.suppress(Exception):
        await bot.del_roster_item(presence["from"].bare)


def ask_for_presence(bot: Any, bare: str, *, now: float | None = None) -> bool:
    """Ask ``bare`` for its presence unless the bot has it (or asked within ``ASK_AGAIN_AFTER``)."""
    now = time.monotonic() if now is None else now
    if bare in bot.client_roster:
        item = bot.client_roster[bare]
        if item["subscription"] in ("to", "both") or item["pending_out"]:
            return False
    if now - bot.asked.get(bare, float("-inf")) < ASK_AGAIN_AFTER:
        return False
    bot.asked[bare] = now
    bot.send_presence_subscription(pto=bare)
    return True


def start_session(bot: Any) -> None:
    """A new session: contacts send their presence again; the last session's watch stops, a new one starts."""
    bot.busy.clear()
    standby.start_session(bot)
    for task in bot.tasks:
        if task.get_name() == "presence-watch":
            task.cancel()
    bot.spawn(keep_watch(bot), name="presence-watch")


async def keep_watch(bot: Any) -> None:
    """Send the digests held across a restart, then ask linked addresses for their presence, now and hourly."""
    await asyncio.sleep(SETTLE_SECONDS)
    bot.held |= await bot.backlog.call(busy.held_addresses)
    for bare in sorted(bot.held - bot.busy):
        bot.spawn(send_digest(bot, bare))
    while True:
        if bot.online.is_set():
            linked = await bot.backlog.call(linking.linked_addresses)
            asked = sum(ask_for_presence(bot, bare) for bare in sorted(linked))
            if asked:
                log.info("asked %d linked addresses for their presence", asked)
        await asyncio.sleep(RECHECK_SECONDS)


def on_changed_status(bot: Any, presence: Any) -> None:
    bare = presence["from"].bare
    if bare == bot.boundjid.bare:
        standby.on_own_presence(bot)
        return
    if bare not in bot.client_roster:
        return
    resources = bot.client_roster[bare].resources
    if resources and all(resource.get("show") == "dnd" for resource in resources.values()):
        bot.busy.add(bare)
        return
    bot.busy.discard(bare)
    if bare in bot.held:
        bot.spawn(send_digest(bot, bare))


async def send_digest(bot: Any, bare: str) -> None:
    """The one message for the confirmations held while ``bare`` was busy; recorded sent once acknowledged."""
    bot.held.discard(bare)
    digest = await bot.backlog.call(busy.digest, bare)
    if digest is None:
        return
    if await bot.send_acknowledged([(digest.to, digest.body, "active")]):
        await asyncio.shield(bot.backlog.call(confirmations.mark_sent, digest.save_ids))
    else:
        bot.held.add(bare)  # the connection dropped: the next session sends it

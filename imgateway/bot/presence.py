"""Presence: who may subscribe to the bot (linked addresses, a bounded number of strangers)."""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

from imgateway import linking

log = logging.getLogger(__name__)


def install(bot: Any) -> None:
    """Answer subscription requests ourselves (``GatewayBot`` turns slixmpp's automatic answers off)."""
    bot.add_event_handler("presence_subscribe", functools.partial(on_subscribe, bot))
    bot.add_event_handler("presence_unsubscribe", functools.partial(on_unsubscribe, bot))


async def on_subscribe(bot: Any, presence: Any) -> None:
    bare = presence["from"].bare
    roster = [str(jid) for jid in bot.client_roster]
    allowed = await bot.backlog.call(linking.subscription_allowed, bare, roster)
    log.info("subscription request from %s: %s", bare, "approved" if allowed else "declined")
    if allowed:
        bot.send_presence(pto=bare, ptype="subscribed")
        bot.send_presence(pto=bare, pstatus=bot.status_line())
    else:
        bot.send_presence(pto=bare, ptype="unsubscribed")


async def on_unsubscribe(bot: Any, presence: Any) -> None:
    # A stranger who leaves leaves no roster entry behind.
    with contextlib.suppress(Exception):
        await bot.del_roster_item(presence["from"].bare)

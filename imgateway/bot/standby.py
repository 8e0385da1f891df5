"""Two gateways for one bot: a primary and a standby (``XMPP_RESOURCE``, ``XMPP_PRIORITY``).

Both log in to the bot's account, each under its own resource; the server
hands the bot's messages to the connected resource with the highest presence
priority (RFC 6121, the server's own routing), so the standby receives them
only once the primary's session has ended. The gateways never hold a stream
for resumption (``GatewayBot`` turns it off), so the session of a primary that
dies ends as soon as the server sees its connection close, and the standby
sees its resource go (the account's own presence, which the server sends to
each of its resources).

A gateway is *active* when no other resource of the account has a higher
priority. Only the active one moves the archive mark (``upkeep``): the
messages another gateway holds are not its to vouch for. A gateway that
becomes active because another resource left:

1. catches up from the archive (``GatewayBot.start_catch_up``): the messages
   the primary had received but not saved; the ones it saved are skipped
   by their archive ids, so each is saved once;
2. takes over the confirmations the primary had read from the stream of
   finished fetches but not sent (``outbox``, ``bot.departed``); a
   confirmation is recorded sent once, so each is sent once.
Both gateways read the stream while both are up; either may send a reply.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def install(bot: Any) -> None:
    bot.own_resources = {}  # the account's other connected resources -> their priority
    bot.active = True
    bot.departed = set()  # resources whose unsent confirmations this gateway takes over


def others(bot: Any) -> dict[str, int]:
    """The bot account's other connected resources, with their priorities."""
    own = bot.boundjid.bare
    if own not in bot.client_roster:
        return {}
    resources = bot.client_roster[own].resources
    return {name: int(data.get("priority") or 0) for name, data in resources.items() if name != bot.boundjid.resource}


def start_session(bot: Any) -> None:
    bot.own_resources = others(bot)
    bot.active = is_active(bot)


def is_active(bot: Any) -> bool:
    return all(priority <= bot.config.priority for priority in bot.own_resources.values())


def on_own_presence(bot: Any) -> None:
    """Another resource of the bot's account came, went or changed priority."""
    now = others(bot)
    gone = set(bot.own_resources) - set(now)
    was_active, bot.own_resources = bot.active, now
    bot.active = is_active(bot)
    if bot.active and gone:
        bot.departed |= gone
    if bot.active and not was_active:
        log.warning("taking over as the active gateway (%s left): catching up", ", ".join(sorted(gone)) or "-")
        bot.start_catch_up()
    elif was_active and not bot.active:
        log.info("standing by: %s has a higher priority", ", ".join(sorted(now)))

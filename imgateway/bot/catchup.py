"""Catching up after a restart: the messages sent to the bot while it was away, from the server's archive.

The server acknowledges a message to its sender when it hands it to the
gateway, not when the gateway has saved it; a gateway that dies in between
would lose it. Every message the server archives (XEP-0313, Prosody's
``mod_mam``) carries the archive's id (XEP-0359), and the gateway records
the ids it handled in the transaction of their effect
(``imgateway.messages``). On every new session it reads the archive from a
little before the last message it handled and handles, like a live one,
each message whose id it has not recorded. A copy delivered again by the
server (offline storage, stream resumption) is recognised by the same id.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Message

from imgateway import messages
from imgateway.bot.backlog import Backlog

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # archive results asked for at once


class Bot(Protocol):
    """What catching up needs of ``GatewayBot``."""

    backlog: Backlog
    plugin: Any

    def ignored(self, msg: Message) -> bool: ...

    def take(self, msg: Message, archive_id: str, *, live: bool) -> None: ...


async def catch_up(bot: Bot) -> int:
    """Hand every archived chat message since ``messages.catch_up_start()`` to the bot; how many were read."""
    since: datetime | None = await bot.backlog.call(messages.catch_up_start)
    if since is None:
        return 0
    read = 0
    try:
        async for result in bot.plugin["xep_0313"].iterate(start=since, rsm={"max": PAGE_SIZE}):
            await bot.backlog.below_mark.wait()  # a long absence is caught up at the database's pace
            msg = result["mam_result"]["forwarded"]["stanza"]
            read += 1
            if not bot.ignored(msg):
                bot.take(msg, result["mam_result"]["id"], live=False)
    except (IqError, IqTimeout) as exc:
        log.warning("could not read the message archive (%s): messages missed while away stay unread", exc)
    log.info("caught up from the archive: %d messages since %s", read, since.isoformat(timespec="seconds"))
    return read

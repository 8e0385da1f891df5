"""Catching up after a restart: the messages sent to the bot while it was away, from the server's archive.

The server considers a message delivered when it hands it to the gateway,
not when the gateway has saved it; a gateway that dies in between would
lose it. Every message the server archives (XEP-0313, Prosody's
``mod_mam``) carries the archive's id (XEP-0359), and the gateway records
the ids it handled in the transaction of their effect
(``imgateway.messages``). It also keeps a mark (``ArchiveMark``, ``imgateway.archive``): everything
archived before it was handled, moved on while the bot is online with
nothing in hand (``upkeep.keep_archive_mark``). On every new session
it reads the archive from a little before the mark, a page at a time, and
handles like a live one each message whose id it has not recorded. The
bot's own messages there include the confirmations it sent (their ids name
their saves): one whose sending was never recorded is marked sent. A
catch-up cut short (the connection drops, the gateway is killed) leaves the
mark where it was, so the next session reads the same messages again and
skips the ones handled by their ids.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from slixmpp import JID
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Message

from imgateway import archive, confirmations
from imgateway.bot.backlog import Backlog

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # archive results asked for at once


class Bot(Protocol):
    """What catching up needs of ``GatewayBot``."""

    backlog: Backlog
    plugin: Any
    boundjid: JID

    def ignored(self, msg: Message) -> bool: ...

    def take(self, msg: Message, archive_id: str, *, live: bool) -> None: ...


async def catch_up(bot: Bot) -> bool:
    """Hand every archived chat message since ``archive.catch_up_start`` to the bot; whether all was read."""
    since: datetime | None = await bot.backlog.call(archive.catch_up_start, bot.boundjid.bare)
    if since is None:
        return True
    read, after, sent = 0, None, []
    while True:
        rsm = {"max": PAGE_SIZE, **({"after": after} if after else {})}
        try:
            page = await bot.plugin["xep_0313"].retrieve(start=since, rsm=rsm)
        except (IqError, IqTimeout) as exc:
            log.warning("could not read the message archive (%s); the next session tries again", exc)
            return False
        results = page["mam"]["results"]
        for result in results:
            await bot.backlog.below_mark.wait()  # a long absence is caught up at the database's pace
            msg = result["mam_result"]["forwarded"]["stanza"]
            if msg["from"].bare == bot.boundjid.bare:  # the bot's own: a confirmation that went out?
                sent.append(confirmations.save_id_of(msg["id"] or ""))
            elif not bot.ignored(msg):
                bot.take(msg, result["mam_result"]["id"], live=False)
        read += len(results)
        fin = page["mam_fin"]
        after = fin["rsm"]["last"]
        if fin["complete"] in ("true", "1", True) or not results or not after:
            break
    sent = [save_id for save_id in sent if save_id is not None]
    if sent:  # went out, but the gateway that sent them died before recording it: never again
        await bot.backlog.call(confirmations.mark_sent, sent)
    log.info("caught up from the archive: %d messages since %s", read, since.isoformat(timespec="seconds"))
    return True

"""What the bot does on a timer while it runs: a ping when the line is quiet, and moving its archive mark on."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from django.utils import timezone
from slixmpp import JID
from slixmpp.exceptions import IqError, IqTimeout

from imgateway import archive
from imgateway.bot.backlog import Backlog

log = logging.getLogger(__name__)

# A ping when nothing came from the server for PING_QUIET seconds; no answer in PING_TIMEOUT: reconnect.
PING_QUIET, PING_TIMEOUT = 60.0, 20.0
# While online with nothing in hand, the bot's archive mark moves on this often (seconds).
MARK_EVERY = 30.0


class Bot(Protocol):
    """What the upkeep needs of ``GatewayBot``."""

    backlog: Backlog
    online: asyncio.Event
    stopping: bool
    caught_up: bool
    active: bool
    retrying: int
    last_heard: float
    boundjid: JID
    plugin: Any

    def reconnect(self, wait: float = 2.0, reason: str = "Reconnecting") -> None: ...


async def keep_alive(bot: Bot) -> None:
    """Ping the server when the line has been quiet for a while; no answer: reconnect.

    Not slixmpp's keepalive, which pings on a timer: behind a flood the
    answer waits after thousands of messages the server holds while the bot
    reads at the database's pace, and a healthy session was dropped. While
    the bot paused reading, the quiet is its own and no ping goes.
    """
    while not bot.stopping:
        await asyncio.sleep(PING_QUIET / 4)
        quiet = time.monotonic() - bot.last_heard >= PING_QUIET
        if not quiet or not bot.online.is_set() or bot.backlog.pressed:
            continue
        try:
            await bot.plugin["xep_0199"].ping(bot.boundjid.host, timeout=PING_TIMEOUT)
        except IqTimeout:
            if bot.online.is_set() and not bot.backlog.pressed:
                bot.reconnect(0.0, f"no answer to a ping in {PING_TIMEOUT:.0f} s")
        except IqError:
            pass  # an answer, if an error: the connection is alive


async def keep_archive_mark(bot: Bot) -> None:
    """Move the archive mark on while online, caught up, with nothing in hand: all archived before is handled."""
    while not bot.stopping:
        await asyncio.sleep(MARK_EVERY)
        moment = timezone.now()
        # Only the active gateway: a standby cannot vouch for what the primary holds (``standby``).
        if bot.online.is_set() and bot.active and bot.caught_up and not bot.retrying and bot.backlog.idle.is_set():
            try:
                await bot.backlog.call(archive.mark_handled_before, bot.boundjid.bare, moment)
            except Exception:  # the database is away: the mark stays, which only means reading more later
                log.warning("could not move the archive mark", exc_info=True)

"""``GatewayBot``: the favsite chat contact, on slixmpp's public API.

It logs in under a fixed resource, hands chat messages to the database
thread (``backlog``) and answers them, sends confirmations (``outbox``),
catches up on what it missed while away (``catchup``) and reconnects by
itself (at most 30 s between tries, jittered).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from slixmpp import JID, ClientXMPP
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0198.stanza import RequestAck
from slixmpp.stanza import Message
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from imgateway import commands, messages
from imgateway.bot import adhoc, catchup, outbox, presence, profile, stanzas, upkeep
from imgateway.bot.backlog import Backlog
from imgateway.bot.config import GatewayConfig
from imgateway.bot.pacing import Backoff, TokenBuckets, Typing
from imgateway.messages import DatabaseUnavailable, Incoming, Reply

log = logging.getLogger(__name__)

PLUGINS = (
    *("xep_0030", "xep_0059", "xep_0066", "xep_0085", "xep_0184", "xep_0198", "xep_0199"),
    *("xep_0308", "xep_0313", "xep_0359", "xep_0424", "xep_0441"),
    *("xep_0054", "xep_0084", "xep_0092", "xep_0153"),  # the bot's profile (``profile``)
    *("xep_0004", "xep_0050"),  # commands as menus (``adhoc``)
)
PLUGIN_CONFIG = {"xep_0092": profile.VERSION_CONFIG}
# How long a confirmation may wait for the server's acknowledgement (XEP-0198) before it is sent again later.
ACK_WAIT = 10.0
STANZA_ID = "{urn:xmpp:sid:0}stanza-id"
DELAY = "{urn:xmpp:delay}delay"
# Messages carrying another message (carbons, archive results, forwards) are never read as sent to us.
FORWARD_NAMESPACES = ("urn:xmpp:carbons:2", "urn:xmpp:mam:2", "urn:xmpp:forward:0")


class GatewayBot(ClientXMPP):
    """The favsite chat contact."""

    def __init__(self, config: GatewayConfig) -> None:
        super().__init__(f"{JID(config.jid).bare}/{config.resource}", config.password)
        self.config = config
        self.enable_direct_tls = config.tls == "direct"
        self.enable_starttls = config.tls == "starttls"
        self.enable_plaintext = config.tls == "off"
        self.backoff = Backoff()
        self.db_backoff = Backoff()  # retries of messages the database failed for
        self.delay_noticed: set[str] = set()  # told "saving is delayed" in this outage
        self.buckets = TokenBuckets(settings.XMPP_RATE_BURST, settings.XMPP_RATE_PER_MINUTE)
        self.typing = Typing()
        self.backlog: Backlog[Incoming] | None = None
        self.online = asyncio.Event()
        self.stopping = False
        self.caught_up = False  # this session read the archive to its end
        self.retrying = 0  # messages the database failed for, waiting to be tried again
        self.reconnect_timer: asyncio.TimerHandle | None = None
        self.last_heard = time.monotonic()
        self.awaiting_ack: dict[str, asyncio.Future] = {}  # id of a confirmation sent -> acknowledged
        self.tasks: set[asyncio.Task] = set()
        # Subscription answers are ours to give (bounded for strangers).
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        for plugin in PLUGINS:
            self.register_plugin(plugin, PLUGIN_CONFIG.get(plugin))
        profile.describe(self)
        # No stream resumption: a dead gateway's session would hibernate (Prosody 0.12 keeps it for its own
        # smacks_hibernation_time, whatever the client asks) and hold the bot's messages away from a standby.
        # What resumption would resend comes from the archive (``catchup``); unacknowledged replies are resent.
        self.plugin["xep_0198"].allow_resume = False
        self.plugin["xep_0184"].auto_ack = False  # we answer receipts only for the messages we accept
        self.plugin["xep_0184"].auto_request = False
        if config.tls == "off":
            # Loopback only (checked in GatewayConfig): SCRAM over a plain socket.
            self.plugin["feature_mechanisms"].unencrypted_scram = True
            self.plugin["feature_mechanisms"].unencrypted_plain = True
        self.add_event_handler("reconnect_delay", self.on_reconnect_delay)
        self.add_event_handler("stanza_acked", self.on_stanza_acked)
        self.add_filter("in", self.heard)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("message", self.on_message)
        # slixmpp's "message" event needs a body; a bare XEP-0066 link has none.
        self.register_handler(
            Callback("OOB without body", MatchXPath("{jabber:client}message/{jabber:x:oob}x"), self.on_bodyless_message)
        )
        self.add_event_handler("message_retract", self.on_bodyless_message)
        presence.install(self)
        adhoc.install(self)

    # -- connection ----------------------------------------------------------

    def start(self) -> None:
        self.backlog = self.backlog or Backlog(
            messages.handle_messages,
            high_water=settings.XMPP_MAX_BACKLOG,
            low_water=settings.XMPP_MAX_BACKLOG // 2,
            on_pressure=self.on_backlog,
        )
        self.connect(self.config.host, self.config.port)

    def on_reconnect_delay(self, wait: float) -> None:
        """Every address failed; slixmpp waits longer after each round, up to 5 minutes. Ours: at most 30 s,
        jittered so that gateways do not retry in step; each round tries every address again."""
        self.cancel_connection_attempt()
        self.reconnect_later("could not connect")

    def reconnect_later(self, why: str) -> None:
        if self.stopping or self.reconnect_timer is not None:
            return  # one reconnection waiting at a time
        delay = self.backoff.next_delay()
        log.warning("%s; reconnecting in %.1f s", why, delay)
        self.reconnect_timer = self.loop.call_later(delay, self.reconnect_now)

    def reconnect_now(self) -> None:
        self.reconnect_timer = None
        if not self.stopping and not self.is_connected() and not self.is_connecting():
            self.connect(self.config.host, self.config.port)

    async def on_session_start(self, _event: Any) -> None:
        self.backoff.reset()
        self.typing.forget()
        self.send_presence(pstatus=self.status_line(), ppriority=self.config.priority)
        with contextlib.suppress(Exception):
            await self.get_roster(timeout=10)
        self.go_online()
        self.start_catch_up()
        self.spawn(profile.publish(self))
        presence.start_session(self)

    def start_catch_up(self) -> None:
        """Read the archive from the mark: at every session start, and when a standby takes over (``standby``)."""
        for task in self.tasks:
            if task.get_name() == "catch-up":
                task.cancel()  # one cut short: this one reads from the mark again
        self.caught_up = False
        self.spawn(self.catch_up(), name="catch-up")

    async def catch_up(self) -> None:
        try:
            # The bot's archive keeps every message, whatever the server's default (ours archives nobody else's).
            await self.plugin["xep_0441"].set_preferences(default="always")
        except (IqError, IqTimeout) as exc:
            log.warning("could not ask the server to archive the bot's messages (%s)", exc)
        self.caught_up = await catchup.catch_up(self)

    def go_online(self) -> None:
        log.info("online as %s", self.boundjid.full)
        if self.backlog is not None and self.backlog.pressed:
            self.on_backlog(True)  # a new connection while the backlog is full: it waits too
        self.online.set()
        if not any(task.get_name() == "outbox" for task in self.tasks):
            self.spawn(outbox.send_confirmations(self), name="outbox")
        for name, work in (("archive-mark", upkeep.keep_archive_mark), ("keepalive", upkeep.keep_alive)):
            if not any(task.get_name() == name for task in self.tasks):
                self.spawn(work(self), name=name)

    def heard(self, stanza: Any) -> Any:
        """An "in" filter: anything from the server shows the connection is alive."""
        self.last_heard = time.monotonic()
        return stanza

    def spawn(self, coroutine: Any, name: str | None = None) -> None:
        task = asyncio.ensure_future(coroutine)
        if name:
            task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def on_disconnected(self, reason: Any) -> None:
        self.online.clear()
        self.reconnect_later(f"disconnected ({reason})")

    @staticmethod
    def status_line() -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return _("Send me a link to save it in favsite; send help for commands.")

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: stop taking work, let the messages in hand be saved, say goodbye."""
        self.stopping = True
        if self.reconnect_timer is not None:
            self.reconnect_timer.cancel()
        for task in list(self.tasks):
            task.cancel()  # a confirmation being recorded as sent finishes (outbox shields it)
        if self.backlog:
            await self.backlog.drain(timeout)
        if self.transport is not None:
            self.send_presence(ptype="unavailable")
            await self.disconnect(wait=2.0)
        else:
            self.cancel_connection_attempt()
        if self.backlog:
            self.backlog.close()

    # -- incoming ------------------------------------------------------------

    def ignored(self, msg: Message) -> bool:
        if msg["type"] not in ("chat", "normal"):
            return True  # error, groupchat, headline: never answered
        sender = msg["from"]
        if not sender or sender.bare == self.boundjid.bare or not sender.user:
            return True  # ourselves, or the server
        return any(msg.xml.find(f"{{{ns}}}*") is not None for ns in FORWARD_NAMESPACES)

    def archive_id(self, msg: Message) -> str:
        """The id our own server's archive gave this message (XEP-0359); others' ids are not trusted."""
        for element in msg.xml.findall(STANZA_ID):
            if element.get("by") == self.boundjid.bare:
                return element.get("id") or ""
        return ""

    def on_bodyless_message(self, msg: Message) -> None:
        """A bare XEP-0066 link, or a retraction without a fallback body: slixmpp's "message" event skips them."""
        if not msg["body"]:
            self.on_message(msg)

    def on_message(self, msg: Message) -> None:
        """A live chat message: check and parse on the loop, then queue it for the database thread."""
        if not self.ignored(msg):
            self.take(msg, self.archive_id(msg), live=True)

    def take(self, msg: Message, archive_id: str, *, live: bool) -> None:
        """Queue a chat message sent to us (live, or from the archive when catching up) for the database thread."""
        incoming = stanzas.incoming_from(msg, archive_id)
        if incoming is None:
            return
        sender = msg["from"]
        if live and msg["request_receipt"] and msg["id"]:
            self.send_receipt(sender, msg["id"])
        if live and not self.kept_for_us(msg) and not self.within_rate(sender, archive_id):
            return
        if self.typing.started(str(sender)):
            self.send_chat_state(sender, "composing")
        self.backlog.put(incoming, functools.partial(self.on_handled, incoming))

    def kept_for_us(self, msg: Message) -> bool:
        """Kept by our own server while the bot was away (offline storage): it arrives in a burst, not too fast."""
        delay = msg.xml.find(DELAY)
        return delay is not None and delay.get("from") in (self.boundjid.domain, self.boundjid.bare)

    def within_rate(self, sender: JID, archive_id: str) -> bool:
        """The sender's token bucket; a refused message is dropped (and never caught up), with one "slow down"."""
        allowed, notify = self.buckets.take(sender.bare)
        if not allowed:
            if archive_id:
                self.spawn(self.backlog.call(messages.record_dropped, [archive_id]))
            if notify:
                self.spawn(self.slow_down(sender))
        return allowed

    async def slow_down(self, sender: JID) -> None:
        """The one "slow down" of a run of refused messages, in the sender's language."""
        try:
            text = await self.backlog.call(messages.slow_down_notice, sender.bare)
        except Exception:
            log.warning("could not look up %s; slow down notice in the site's language", sender.bare, exc_info=True)
            text = messages.slow_down_notice(None)
        self.reply_text(sender, text)

    def on_handled(self, incoming: Incoming, outcome: Reply | Exception) -> None:
        """The database work for ``incoming`` is done (and committed): answer it."""
        if isinstance(outcome, DatabaseUnavailable):
            self.save_later(incoming)
            return
        if not isinstance(outcome, Exception):
            self.db_backoff.reset()
            self.delay_noticed.discard(JID(incoming.sender).bare)
        if isinstance(outcome, Exception):
            log.error("handling a message from %s failed", incoming.sender, exc_info=outcome)
            with translation.override(settings.LANGUAGE_CODE):
                outcome = Reply(_("Sorry, something went wrong; please try again later."))
        if outcome.linked:
            presence.ask_for_presence(self, JID(incoming.sender).bare)
        if outcome.awaiting_confirmation:
            return  # still in flight: its confirmation answers it
        state = self.typing.finished(incoming.sender)
        if outcome.text:
            self.reply_text(incoming.sender, outcome.text, state)
        elif state == "active":
            self.send_chat_state(incoming.sender, "active")

    def save_later(self, incoming: Incoming) -> None:
        """The database is down: keep the message and try again; the sender hears once per outage."""
        bare = JID(incoming.sender).bare
        if bare not in self.delay_noticed:
            self.delay_noticed.add(bare)
            self.reply_text(incoming.sender, commands.saving_delayed_notice(), "composing")
        delay = self.db_backoff.next_delay()
        log.warning("database unavailable for a message from %s; trying again in %.1f s", bare, delay)
        self.retrying += 1

        def resubmit() -> None:
            self.retrying -= 1
            if not self.stopping:  # stopped meanwhile: the archive has it for the next start
                self.backlog.put(incoming, functools.partial(self.on_handled, incoming))

        self.loop.call_later(delay, resubmit)

    def on_backlog(self, full: bool) -> None:
        """Back-pressure: stop reading from the server while the backlog is full (the server keeps the rest)."""
        transport = self.transport
        if full:
            log.warning("%d messages waiting for the database: reading paused", len(self.backlog))
            if transport is not None:
                transport.pause_reading()
        elif transport is not None and not transport.is_closing():
            log.info("backlog down to %d: reading again", len(self.backlog))
            transport.resume_reading()
            self.last_heard = time.monotonic()  # the quiet was ours

    # -- outgoing ------------------------------------------------------------

    def send_receipt(self, to: JID, message_id: str) -> None:
        ack = self.Message(sto=to, stype="chat")
        ack["receipt"] = message_id
        ack.send()

    async def send_acknowledged(self, messages: list[tuple[str, str, str]], ids: list[str] | None = None) -> list[int]:
        """Send ``(to, text, chat state)`` each (with its id from ``ids``, if given); the positions of those the
        server acknowledged (XEP-0198).

        Without stream management nothing can be acknowledged: every message
        counts as delivered once written to the connection.
        """
        if not self.plugin["xep_0198"].enabled_out:
            for position, (to, text, state) in enumerate(messages):
                self.reply_text(to, text, state, ids[position] if ids else None)
            return list(range(len(messages)))
        acknowledged: list[asyncio.Future] = []
        for position, (to, text, state) in enumerate(messages):
            msg = self.make_message(mto=to, mbody=text, mtype="chat")
            msg["chat_state"] = state
            msg["id"] = ids[position] if ids else self.new_id()
            future = self.awaiting_ack[msg["id"]] = self.loop.create_future()
            acknowledged.append(future)
            msg.send()
        self.send(RequestAck(self))  # queued behind the messages: request_ack() would overtake them
        await asyncio.wait(acknowledged, timeout=ACK_WAIT)
        for future in acknowledged:
            future.cancel()  # the server's acknowledgement after this changes nothing: it is sent again later
        self.awaiting_ack = {key: future for key, future in self.awaiting_ack.items() if not future.done()}
        return [position for position, future in enumerate(acknowledged) if not future.cancelled()]

    def on_stanza_acked(self, stanza: Any) -> None:
        future = self.awaiting_ack.pop(stanza["id"], None) if isinstance(stanza, Message) else None
        if future is not None and not future.done():
            future.set_result(True)

    def send_chat_state(self, to: JID | str, state: str) -> None:
        msg = self.make_message(mto=to, mtype="chat")
        msg["chat_state"] = state
        msg.send()

    def reply_text(self, to: JID | str, text: str, state: str = "active", message_id: str | None = None) -> None:
        msg = self.make_message(mto=to, mbody=text, mtype="chat")
        msg["chat_state"] = state
        if message_id:
            msg["id"] = message_id
        msg.send()


def run_gateway(config: GatewayConfig) -> None:
    """Run the bot until SIGTERM/SIGINT (``manage.py run_imgateway``)."""

    async def main() -> None:
        bot = GatewayBot(config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        bot.start()
        await stop.wait()
        log.info("stopping")
        await bot.stop()

    asyncio.run(main())

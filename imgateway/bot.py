"""The XMPP bot: slixmpp at the edge, ``imgateway.handling`` in database threads.

``GatewayBot`` logs in under a fixed resource, answers chat messages, sends
confirmations from the outbox stream, and reconnects by itself. Nothing here
touches the database on the event loop: every handler call goes through
``DbPool``, a bounded backlog per shard served by one thread each (a JID
always maps to the same shard, so one person's messages are handled in
order), which saves the messages waiting in it in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import ipaddress
import logging
import random
import signal
import time
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext as _
from slixmpp import JID, ClientXMPP
from slixmpp.stanza import Message
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from imgateway import handling, outbox, smacks

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKOFF = 30.0
# Confirmations another gateway read and left unacknowledged this long (seconds) are taken over.
OUTBOX_CLAIM_IDLE = 60.0
OUTBOX_BATCH = 50  # confirmations read from the stream at once
SM_ACK_WINDOW = 50
CARBONS_NS = "urn:xmpp:carbons:2"
FORWARD_NAMESPACES = (CARBONS_NS, "urn:xmpp:mam:2", "urn:xmpp:forward:0")


@dataclass(frozen=True)
class GatewayConfig:
    jid: str
    password: str
    host: str | None
    port: int | None
    tls: str  # starttls | direct | off
    resource: str

    @classmethod
    def from_settings(cls) -> GatewayConfig:
        if not settings.XMPP_JID or not settings.XMPP_PASSWORD:
            raise ImproperlyConfigured("XMPP_JID and XMPP_PASSWORD must be set to run the gateway")
        host = port = None
        if settings.XMPP_SERVER:
            host, _sep, raw_port = settings.XMPP_SERVER.rpartition(":")
            if not host or not raw_port.isdigit():
                raise ImproperlyConfigured(f"XMPP_SERVER must be host:port, not {settings.XMPP_SERVER!r}")
            host, port = host.strip("[]"), int(raw_port)
        if settings.XMPP_TLS == "off" and not _is_loopback(host):
            raise ImproperlyConfigured("XMPP_TLS=off is only allowed when XMPP_SERVER is a loopback address")
        return cls(settings.XMPP_JID, settings.XMPP_PASSWORD, host, port, settings.XMPP_TLS, settings.XMPP_RESOURCE)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class PacedReader:
    """Bytes from the server, handed to the XML parser a slice at a time, and none while ``paused()``.

    asyncio reads up to 256 KiB at once, and the parser dispatches every
    stanza in what it is fed before reading can pause: in a flood, one read
    was about a thousand messages past ``XMPP_MAX_UNACKED``, each costing the
    gateway memory until saved (docs/PERFORMANCE.md, ingest). Fed
    ``SLICE`` bytes at a time, the gateway stops within a slice of the mark;
    the rest waits here, as bytes, until ``pump()`` after the backlog drained.
    """

    SLICE = 16 * 1024

    def __init__(self, feed: Callable[[bytes], None], paused: Callable[[], bool]) -> None:
        self.feed, self.paused = feed, paused
        self.data, self.at = b"", 0

    def received(self, data: bytes) -> None:
        self.data = self.data[self.at :] + data if self.at < len(self.data) else data
        self.at = 0
        self.pump()

    def pump(self) -> None:
        while self.at < len(self.data) and not self.paused():
            start, self.at = self.at, self.at + self.SLICE
            self.feed(self.data[start : self.at])
        if self.at >= len(self.data):
            self.data, self.at = b"", 0

    def clear(self) -> None:
        """A new connection: nothing of the old stream may reach the new parser."""
        self.data, self.at = b"", 0


class Typing:
    """XEP-0085 for saves in flight: one "composing" while any of a sender's messages is being saved.

    The state is per full JID (the resource that sent the links). The first
    message in flight sends "composing"; every reply or confirmation carries
    the state that follows it: "composing" while others are still in flight,
    "active" after the last. A burst of links from one person therefore costs
    one chat state, not one per link: each stanza sent waits in memory for
    the server's acknowledgement (XEP-0198), and during a flood of 10,000
    messages those were half the gateway's held stanzas and of the server's
    routing work (docs/PERFORMANCE.md, ingest). Remembers at most
    ``max_entries`` senders; past that a sender is not counted (each of its
    messages shows "composing", each answer "active").
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


# After this many jobs, an empty backlog gives freed heap memory back (trim_heap).
TRIM_AFTER_JOBS = 1000


def trim_heap() -> bool:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``); False where there is none.

    A flood of messages leaves the C allocator holding pages it freed (the
    SQLite page cache, large buffers, parser memory); glibc returns the ones
    at the top of its heaps by itself, not the ones in between. 2-4 MB of
    the gateway's memory after a flood of 10,000 messages
    (docs/PERFORMANCE.md, ingest). Python's own small-object arenas are not
    glibc's and are not affected.
    """
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


class DbPool:
    """Database work off the event loop: ``shards`` threads, each serving a bounded backlog in order.

    1. A job lands in the backlog of its key's shard (a JID always maps to the
       same shard, so one person's messages are handled in order).
    2. The shard's server takes everything waiting (at most ``batch_size``)
       and runs it in the shard's thread: consecutive jobs of one batch
       function go in one call (``handling.handle_messages`` saves them in
       one transaction), the others one by one.
    3. Each job's ``done`` callback gets its result or exception on the loop.

    Jobs are small tuples, not waiting coroutines: a flood costs memory per
    message of the parsed text only. Past ``high_water`` (``load()``: jobs
    waiting, or messages the server holds unacknowledged if more),
    ``on_pressure(True)`` asks the bot to stop reading from the server until
    that is under ``low_water`` again.
    """

    def __init__(
        self,
        shards: int = 4,
        batch_size: int = 64,
        high_water: int = 20_000,
        low_water: int = 10_000,
        on_pressure: Callable[[bool], None] | None = None,
        held: Callable[[], int] | None = None,
    ) -> None:
        self.held = held or (lambda: 0)
        self.executor = ThreadPoolExecutor(max_workers=shards, thread_name_prefix="imgateway-db")
        self.batch_size, self.high_water, self.low_water = batch_size, high_water, low_water
        self.on_pressure = on_pressure
        self.backlogs: list[deque] = [deque() for _ in range(shards)]
        self.wakeups = [asyncio.Event() for _ in range(shards)]
        self.waiting = 0  # jobs in all backlogs, plus those running
        self.done_since_trim = 0  # jobs finished since the heap was last trimmed (trim_heap)
        self.pressed = False
        self.idle = asyncio.Event()
        self.idle.set()
        self.tasks = [asyncio.ensure_future(self._serve(i)) for i in range(shards)]

    def submit(
        self,
        key: str,
        batch_func: Callable[[list], list],
        item: Any,
        done: Callable[[Any], None],
        *,
        first: bool = False,
    ) -> None:
        """Queue ``item`` for ``batch_func([item, ...])``; ``done(result or exception)`` follows on the loop.

        ``first``: ahead of the jobs waiting in its shard, not behind them.
        """
        shard = zlib.crc32(key.encode()) % len(self.backlogs)
        job = (batch_func, item, done)
        if first:
            self.backlogs[shard].appendleft(job)
        else:
            self.backlogs[shard].append(job)
        self.waiting += 1
        self.idle.clear()
        self.wakeups[shard].set()
        if not self.pressed and self.load() >= self.high_water:
            self._press(True)

    async def run(self, key: str, func: Callable[..., T], *args: Any, first: bool = False) -> T:
        """Run ``func(*args)`` in the thread of ``key``'s shard, in order with its other jobs (``first``: ahead)."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()

        def done(outcome: Any) -> None:
            if future.done():
                return
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        self.submit(key, _call_each, (func, args), done, first=first)
        return await future

    def load(self) -> int:
        """What the server holds for us unacknowledged, at least: jobs waiting, or ``held()`` if more.

        One slow job holds back the XEP-0198 ``h`` of every message after it,
        however many other shards finished: the server keeps all of them.
        """
        return max(self.waiting, self.held())

    def _press(self, pressed: bool) -> None:
        self.pressed = pressed
        if self.on_pressure is not None:
            self.on_pressure(pressed)

    async def _serve(self, shard: int) -> None:
        loop = asyncio.get_running_loop()
        backlog, wakeup = self.backlogs[shard], self.wakeups[shard]
        while True:
            if not backlog:
                wakeup.clear()
                await wakeup.wait()
                continue
            taken = [backlog.popleft() for _ in range(min(len(backlog), self.batch_size))]
            for batch_func, jobs in _runs(taken):
                items = [item for _func, item, _done in jobs]
                try:
                    outcomes = await loop.run_in_executor(self.executor, batch_func, items)
                except Exception as exc:  # handed to each caller, which logs it
                    outcomes = [exc] * len(jobs)
                for (_func, _item, done), outcome in zip(jobs, outcomes, strict=True):
                    try:
                        done(outcome)
                    except Exception:
                        log.exception("a database job's callback failed")
                self.waiting -= len(jobs)
                self.done_since_trim += len(jobs)
            if self.pressed and self.load() <= self.low_water:
                self._press(False)
            if not self.waiting:
                self.idle.set()
                if self.done_since_trim >= TRIM_AFTER_JOBS:
                    self.done_since_trim = 0
                    trim_heap()

    async def drain(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.executor.submit(connections.close_all)
        self.executor.shutdown(wait=True, cancel_futures=True)


def _runs(jobs: list[tuple]) -> list[tuple[Callable, list[tuple]]]:
    """Consecutive jobs of the same batch function, grouped, in order."""
    runs: list[tuple[Callable, list[tuple]]] = []
    for job in jobs:
        if runs and runs[-1][0] is job[0]:
            runs[-1][1].append(job)
        else:
            runs.append((job[0], [job]))
    return runs


def _call_each(calls: list[tuple[Callable, tuple]]) -> list[Any]:
    """The batch function of ``DbPool.run``: each call alone; an exception is that call's outcome."""
    outcomes: list[Any] = []
    for func, args in calls:
        try:
            outcomes.append(func(*args))
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


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
        self.db: DbPool | None = None
        self.reader = PacedReader(
            functools.partial(ClientXMPP.data_received, self), lambda: self.db is not None and self.db.pressed
        )
        self.online = asyncio.Event()
        self.stopping = False
        self.outbox_task: asyncio.Task | None = None
        # Subscription answers are ours to give (bounded for strangers).
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        for plugin in ("xep_0030", "xep_0066", "xep_0085", "xep_0184", "xep_0198", "xep_0199"):
            self.register_plugin(plugin)
        self.plugin["xep_0184"].auto_ack = False  # we ack only the messages we accept
        self.plugin["xep_0184"].auto_request = False
        self.plugin["xep_0199"].enable_keepalive(interval=60, timeout=20)
        # XEP-0198: ask the server for an ack every SM_ACK_WINDOW stanzas sent,
        # not slixmpp's 5 (an <r/> and the server's <a/> for every two or three
        # messages answered). The unacknowledged ones wait in memory until then.
        sm = self.plugin["xep_0198"]
        sm.window = sm.window_counter = SM_ACK_WINDOW
        # A message counts as handled for the server (XEP-0198) once saved, not on arrival.
        self.acks = smacks.FinishedAcks(self)
        smacks.keep_sent_as_text(self)  # after every other filter: it hands on text
        if config.tls == "off":
            # Loopback only (checked in GatewayConfig): SCRAM over a plain socket.
            self.plugin["feature_mechanisms"].unencrypted_scram = True
            self.plugin["feature_mechanisms"].unencrypted_plain = True
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("session_resumed", self._on_session_resumed)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("message", self._on_message)
        # slixmpp's "message" event needs a body; a bare XEP-0066 link has none.
        self.register_handler(
            Callback("OOB without body", MatchXPath("{jabber:client}message/{jabber:x:oob}x"), self._on_oob_message)
        )
        self.add_event_handler("presence_subscribe", self._on_subscribe)
        self.add_event_handler("presence_unsubscribe", self._on_unsubscribe)

    # -- connection ----------------------------------------------------------

    def start(self) -> None:
        self.db = self.db or DbPool(
            shards=settings.XMPP_DB_THREADS,
            high_water=settings.XMPP_MAX_UNACKED,
            low_water=settings.XMPP_MAX_UNACKED // 2,
            on_pressure=self._on_backlog,
            held=lambda: self.acks.unfinished,
        )
        self.connect(self.config.host, self.config.port)

    def connection_made(self, transport: Any, send_event: bool = True) -> None:
        self.reader.clear()
        super().connection_made(transport, send_event)

    def data_received(self, data: bytes) -> None:  # type: ignore[override]
        self.reader.received(data)

    def reschedule_connection_attempt(self) -> asyncio.Future | None:
        # slixmpp's own schedule doubles up to 300 s without jitter; ours is
        # capped at 30 s and jittered so many gateways do not retry in step.
        if self._current_connection_attempt is None:
            return None
        self._connect_loop_wait = self.backoff.next_delay()
        log.info("connection failed; next try in %.1f s", self._connect_loop_wait)
        self._current_connection_attempt = asyncio.ensure_future(self._connect_loop(), loop=self.loop)
        return self._current_connection_attempt

    async def _on_session_start(self, _event: Any) -> None:
        self.backoff.reset()
        self.typing.forget()
        self.send_presence(pstatus=self.status_line())
        with contextlib.suppress(Exception):
            await self.get_roster(timeout=10)
        self._online()

    @staticmethod
    def status_line() -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return _("Send me a link to save it in favsite; send help for commands.")

    async def _on_session_resumed(self, _event: Any) -> None:
        self.backoff.reset()
        self._online()

    def _online(self) -> None:
        log.info("online as %s", self.boundjid.full)
        if self.db is not None and self.db.pressed:
            self._on_backlog(True)  # a new connection while the backlog is full: it waits too
        self.online.set()
        if self.outbox_task is None or self.outbox_task.done():
            self.outbox_task = asyncio.ensure_future(self._outbox_loop())

    async def _on_disconnected(self, reason: Any) -> None:
        self.online.clear()
        if self.stopping:
            return
        delay = self.backoff.next_delay()
        log.warning("disconnected (%s); reconnecting in %.1f s", reason, delay)
        await asyncio.sleep(delay)
        if not self.stopping and self.transport is None:
            self.connect(self.config.host, self.config.port)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: stop taking work, let handlers in flight finish, say goodbye."""
        self.stopping = True
        if self.outbox_task:
            self.outbox_task.cancel()
        if self.db:
            await self.db.drain(timeout)
        if self.transport is not None:
            self.plugin["xep_0198"].send_ack()  # what the drain finished, before the stream closes
            self.send_presence(ptype="unavailable")
            await self.disconnect(wait=2.0)
        else:
            self.cancel_connection_attempt()
        if self.db:
            self.db.close()

    # -- incoming ------------------------------------------------------------

    def recv_stanza(self, stanza: Any) -> None:
        self.acks.receive(stanza, super().recv_stanza)

    def _ignored(self, msg: Message) -> bool:
        if msg["type"] not in ("chat", "normal"):
            return True  # error, groupchat, headline: never answered
        sender = msg["from"]
        if not sender or sender.bare == self.boundjid.bare or not sender.user:
            return True  # ourselves, or the server
        xml = msg.xml
        return any(xml.find(f"{{{ns}}}*") is not None for ns in FORWARD_NAMESPACES)

    def _on_oob_message(self, msg: Message) -> None:
        if not msg["body"]:
            self._on_message(msg)

    def _on_message(self, msg: Message) -> None:
        """Check and parse on the loop; the database work is queued (``DbPool``), the reply follows."""
        if self._ignored(msg):
            return
        oob = msg["oob"]["url"] if msg.xml.find("{jabber:x:oob}x") is not None else ""
        body = msg["body"] or ""
        if not body.strip() and not oob:
            return  # chat states, receipts and other body-less messages
        sender = msg["from"]
        if msg["request_receipt"] and msg["id"]:
            self.send_receipt(sender, msg["id"])
        allowed, notify = self.buckets.take(sender.bare)
        if not allowed:
            if notify:
                asyncio.ensure_future(self._slow_down(sender))
            return
        delayed = msg.xml.find("{urn:xmpp:delay}delay") is not None
        incoming = handling.Incoming(str(sender), body, [oob] if oob else [], msg["id"] or "", delayed)
        if self.typing.started(str(sender)):
            self.send_chat_state(sender, "composing")
        done = functools.partial(self._on_handled, incoming, self.acks.hold())
        self.db.submit(sender.bare, handling.handle_messages, incoming, done)

    async def _slow_down(self, sender: JID) -> None:
        """The one "slow down" of a run of refused messages, in the sender's language."""
        try:
            text = await self.db.run(sender.bare, handling.slow_down_notice, sender.bare)
        except Exception:
            log.warning("could not look up %s; slow down notice in the site's language", sender.bare, exc_info=True)
            text = handling.slow_down_notice(None)
        self.reply_text(sender, text)

    def _on_handled(
        self, incoming: handling.Incoming, release: Callable[[], None], outcome: handling.Reply | Exception
    ) -> None:
        """The database work for ``incoming`` is done (and committed): answer it, then ack it to the server."""
        if isinstance(outcome, handling.DatabaseUnavailable):
            self._save_later(incoming, release)
            return
        if not isinstance(outcome, Exception):
            self.db_backoff.reset()
            self.delay_noticed.discard(JID(incoming.sender).bare)
        try:
            self._answer(incoming, outcome)
        finally:
            release()

    def _save_later(self, incoming: handling.Incoming, release: Callable[[], None]) -> None:
        """The database is down: keep the message unacknowledged (the server holds it) and try again.

        The sender hears once per outage that saving is delayed. The retry is
        marked delay-stamped, so if the server delivered the message again
        meanwhile (a new stream), whichever copy comes second is dropped.
        """
        bare = JID(incoming.sender).bare
        if bare not in self.delay_noticed:
            self.delay_noticed.add(bare)
            self.reply_text(incoming.sender, handling.saving_delayed_notice(), "composing")
        delay = self.db_backoff.next_delay()
        log.warning("database unavailable for a message from %s; trying again in %.1f s", bare, delay)
        retry = dataclasses.replace(incoming, delayed=True)
        done = functools.partial(self._on_handled, retry, release)

        def resubmit() -> None:
            if not self.stopping:  # unacknowledged: the server delivers it again after the restart
                self.db.submit(bare, handling.handle_messages, retry, done)

        self.loop.call_later(delay, resubmit)

    def _answer(self, incoming: handling.Incoming, outcome: handling.Reply | Exception) -> None:
        if isinstance(outcome, Exception):
            log.error("handling a message from %s failed", incoming.sender, exc_info=outcome)
            with translation.override(settings.LANGUAGE_CODE):
                outcome = handling.Reply(_("Sorry, something went wrong; please try again later."))
        if outcome.awaiting_confirmation:
            return  # still in flight: its confirmation answers it
        state = self.typing.finished(incoming.sender)
        if outcome.text:
            self.reply_text(incoming.sender, outcome.text, state)
        elif state == "active":
            self.send_chat_state(incoming.sender, "active")

    def _on_backlog(self, full: bool) -> None:
        """``DbPool`` pressure: stop reading from the server while its backlog is full.

        Replies to the keepalive ping would wait behind the messages the
        server holds for us, so the keepalive is off while reading is paused
        (data is flowing: the connection is alive) and on again after.
        """
        transport = self.transport
        if full:
            log.warning("%d messages waiting for the database: reading paused", self.db.waiting)
            self.plugin["xep_0199"].disable_keepalive()
            if transport is not None:
                transport.pause_reading()
        else:
            log.info("backlog down to %d: reading again", self.db.waiting)
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
                self.loop.call_soon(self.reader.pump)  # what was read before the pause first
            self.plugin["xep_0199"].enable_keepalive()

    def send_receipt(self, to: JID, message_id: str) -> None:
        ack = self.Message(sto=to, stype="chat")
        ack["receipt"] = message_id
        ack.send()

    def send_chat_state(self, to: JID | str, state: str) -> None:
        msg = self.make_message(mto=to, mtype="chat")
        msg["chat_state"] = state
        msg.send()

    def reply_text(self, to: JID | str, text: str, state: str = "active") -> None:
        msg = self.make_message(mto=to, mbody=text, mtype="chat")
        msg["chat_state"] = state
        msg.send()

    async def _on_subscribe(self, presence: Any) -> None:
        bare = presence["from"].bare
        roster = [str(jid) for jid in self.client_roster]
        allowed = await self.db.run(bare, handling.subscription_allowed, bare, roster)
        log.info("subscription request from %s: %s", bare, "approved" if allowed else "declined")
        if allowed:
            self.send_presence(pto=bare, ptype="subscribed")
            self.send_presence(pto=bare, pstatus=self.status_line())
        else:
            self.send_presence(pto=bare, ptype="unsubscribed")

    async def _on_unsubscribe(self, presence: Any) -> None:
        # A stranger who leaves leaves no roster entry behind.
        with contextlib.suppress(Exception):
            await self.del_roster_item(presence["from"].bare)

    # -- confirmations -------------------------------------------------------

    async def _outbox_loop(self) -> None:
        """Send confirmations from the stream while online; ack them after sending.

        1. Entries this consumer read but never acked (it crashed) come first
           (cursor ``0``), then new ones (``>``).
        2. Every ``OUTBOX_CLAIM_IDLE`` seconds, entries pending that long under
           another consumer (a gateway that died under another resource)
           become ours (``XAUTOCLAIM``) and are sent.
        3. Each batch read costs two database calls (which saves are still
           unsent; mark the sent ones) and one XACK and XDEL. They go ahead of
           the messages waiting to be saved: behind a flood's backlog (up to
           ``XMPP_MAX_UNACKED`` messages) each batch waited for all of it, and
           in the ingest benchmark no confirmation went out until the flood
           was saved (docs/PERFORMANCE.md, ingest).
        """
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=15)
        stream, consumer = outbox.stream_name(), self.config.resource
        try:
            await _create_outbox_group(client, stream)
            cursor, next_claim = "0", 0.0
            while not self.stopping:
                await self.online.wait()
                try:
                    if time.monotonic() >= next_claim:
                        next_claim = time.monotonic() + OUTBOX_CLAIM_IDLE
                        await self._claim_abandoned(client, stream, consumer)
                    response = await client.xreadgroup(
                        outbox.GROUP, consumer, {stream: cursor}, count=OUTBOX_BATCH, block=5000
                    )
                except redis.RedisError as exc:
                    if _outbox_group_lost(exc):
                        # Redis restarted without its data (or the key was deleted):
                        # entries added since then are read from the start.
                        log.warning("outbox: the stream's consumer group is gone; creating it again")
                        cursor = "0"
                        try:
                            await _create_outbox_group(client, stream)
                        except redis.RedisError as create_exc:  # NOPERM, READONLY, ...: wait, never spin
                            log.warning("outbox: cannot create the consumer group (%s); retrying", create_exc)
                            await asyncio.sleep(self.backoff_delay_for_redis())
                        continue
                    log.warning("outbox: Redis unavailable (%s); retrying", exc)
                    await asyncio.sleep(self.backoff_delay_for_redis())
                    continue
                entries = response[0][1] if response else []
                if cursor == "0" and not entries:
                    cursor = ">"
                    continue
                await self._deliver(client, stream, entries)
                if not self.online.is_set():
                    cursor = "0"  # read what is left again after reconnecting
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("outbox loop failed; restarting it")
            if not self.stopping:
                self.outbox_task = asyncio.ensure_future(self._restart_outbox())
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _claim_abandoned(self, client: aioredis.Redis, stream: str, consumer: str) -> None:
        """Take over and send entries another consumer read and left unacked for OUTBOX_CLAIM_IDLE."""
        start = "0-0"
        while self.online.is_set():
            next_start, entries, *_deleted = await client.xautoclaim(
                stream, outbox.GROUP, consumer, int(OUTBOX_CLAIM_IDLE * 1000), start_id=start, count=OUTBOX_BATCH
            )
            if entries:
                log.info("outbox: %d confirmations left by another gateway taken over", len(entries))
                await self._deliver(client, stream, entries)
            start = next_start.decode() if isinstance(next_start, bytes) else next_start
            if start == "0-0":
                return

    async def _restart_outbox(self) -> None:
        await asyncio.sleep(1)
        await self._outbox_loop()

    @staticmethod
    def backoff_delay_for_redis() -> float:
        return random.uniform(1.0, 3.0)

    async def _deliver(self, client: aioredis.Redis, stream: str, entries: list) -> None:
        """Send the confirmations of ``entries`` not sent yet; mark them sent; ack and drop the entries.

        Stops early when the connection drops; what was not handled stays
        pending, to be read again after reconnecting.
        """
        decoded = [
            (entry_id, {k.decode(): v.decode() for k, v in (fields or {}).items()})
            for entry_id, fields in entries
            if entry_id is not None
        ]
        save_ids = {int(fields.get("save") or 0) for _entry_id, fields in decoded} - {0}
        unsent = await self.db.run("outbox", outbox.unsent, sorted(save_ids), first=True) if save_ids else set()
        handled, sent = [], []
        for entry_id, fields in decoded:
            if not self.online.is_set():
                break
            save_id, to = int(fields.get("save") or 0), fields.get("to", "")
            if save_id in unsent and to:
                unsent.discard(save_id)  # the same save twice in one read: sent once
                self.reply_text(self._reply_address(to), fields.get("body", ""), self.typing.finished(to))
                sent.append(save_id)
            handled.append(entry_id)
        if sent:
            await self.db.run("outbox", outbox.mark_sent_many, sent, first=True)
        if handled:
            await client.xack(stream, outbox.GROUP, *handled)
            await client.xdel(stream, *handled)

    def _reply_address(self, full: str) -> str:
        """The resource that sent the link, or the bare JID when we know it is gone."""
        jid = JID(full)
        if jid.resource and jid.bare in self.client_roster:
            resources = self.client_roster[jid.bare].resources
            if resources and jid.resource not in resources:
                return jid.bare
        return full


async def _create_outbox_group(client: aioredis.Redis, stream: str) -> None:
    try:
        await client.xgroup_create(stream, outbox.GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if not str(exc).startswith("BUSYGROUP"):  # it exists: fine; anything else is the caller's
            raise


def _outbox_group_lost(exc: redis.RedisError) -> bool:
    """NOGROUP: the stream or its group is missing; UNBLOCKED: it was deleted during our read."""
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(("NOGROUP", "UNBLOCKED"))


def run_gateway(config: GatewayConfig) -> None:
    """Run the bot until SIGTERM/SIGINT (used by ``manage.py run_imgateway``)."""

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

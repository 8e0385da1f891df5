"""What the bot does with chat messages: plain sync functions, run in the gateway's database thread.

The slixmpp bot (``imgateway.bot``) turns each chat message into an
``Incoming`` and hands the ones waiting to ``handle_messages``, which returns
a ``Reply`` for each: what to answer now, and whether a confirmation follows
(the bot shows "composing" until then). Tests call it directly, no socket.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import translation
from slixmpp import JID
from slixmpp.jid import InvalidJID

from bookmarks.preferences import speaking_to
from imgateway import commands, corrections, linking, saving
from imgateway.incoming import Incoming
from imgateway.models import LinkedJid, ReceivedMessage
from imgateway.parsing import Command, Save, parse_message

log = logging.getLogger(__name__)

# Errors that say the database could not be reached or did not answer in
# time (a dropped connection, a restart, SQLite's lock timeout), not that the
# message is bad: the message is kept and saved later, never answered "failed".
UNAVAILABLE = (OperationalError, InterfaceError)
CONNECTION_CHECK_SECONDS = 30.0


@dataclass
class Reply:
    text: str | None
    # New bookmarks are being fetched: a confirmation will follow.
    awaiting_confirmation: bool = False
    linked: bool = False  # the sender's address was linked: the bot asks for its presence
    # Recorded as received (``ReceivedMessage``): not for a stranger, answered once an hour at most anyway.
    record: bool = True


class DatabaseUnavailable(Exception):
    """The database failed twice for this message, the second time on a new connection.

    The bot keeps the message and tries again later; the sender is told once
    that saving is delayed. If the gateway stops meanwhile, the message is
    taken from the server's archive when it is back.
    """


class AlreadyReceived(Exception):
    """The message was handled before (another copy of it carries the same archive id)."""


_checked = threading.local()


def fresh_connection() -> None:
    """Drop a database connection that broke or aged while the thread was idle (checked every 30 s at most).

    Never inside a transaction (a test's, or a caller's): closing would end it.
    """
    if connection.in_atomic_block:
        return
    now = time.monotonic()
    if now - getattr(_checked, "at", float("-inf")) >= CONNECTION_CHECK_SECONDS:
        _checked.at = now
        close_old_connections()


def _drop_connection_after_error() -> None:
    if not connection.in_atomic_block:
        connection.close()


def handle_message(incoming: Incoming) -> Reply:
    """One message alone, through the bot's own path (``handle_messages``): its reply, or its exception raised."""
    outcome = handle_messages([incoming])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def handle_messages(batch: list[Incoming]) -> list[Reply | Exception]:
    """Messages waiting in the database thread, in order: a reply, or the exception, for each.

    1. The senders' links and the messages received before are read once.
    2. Consecutive saves share one transaction (``saving.save_messages``);
       anything else (commands, link codes) runs alone, in order, after the
       saves before it committed. Each transaction records its messages as
       received; a copy of a message received before gets no answer.
    3. A message the database failed for (``UNAVAILABLE``) is tried once more
       on a new connection; failing again, its outcome is ``DatabaseUnavailable``.
    """
    fresh_connection()
    try:
        outcomes = _handle_batch(batch)
    except UNAVAILABLE:  # reading the links: the connection broke, or the database is locked
        log.warning("the database failed for a batch of %d messages; trying once more", len(batch), exc_info=True)
        outcomes = [UNAVAILABLE[0]("not tried")] * len(batch)
    again = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, UNAVAILABLE)]
    if again:
        _drop_connection_after_error()  # a fresh connection for the second try
        try:
            retried = _handle_batch([batch[index] for index in again])
        except UNAVAILABLE as exc:
            retried = [exc] * len(again)
        for index, outcome in zip(again, retried, strict=True):
            outcomes[index] = DatabaseUnavailable(outcome) if isinstance(outcome, UNAVAILABLE) else outcome
        if any(isinstance(outcomes[index], DatabaseUnavailable) for index in again):
            _drop_connection_after_error()
    _record_failed(batch, outcomes)
    return outcomes


def _record_failed(batch: list[Incoming], outcomes: list[Reply | Exception]) -> None:
    """Messages answered "something went wrong" are received too: catching up must not fail them again."""
    failed = [
        incoming
        for incoming, outcome in zip(batch, outcomes, strict=True)
        if isinstance(outcome, Exception) and not isinstance(outcome, DatabaseUnavailable)
    ]
    with contextlib.suppress(DatabaseError):
        _record_received(failed)


@dataclass
class _Job:
    """Database work routed from one message: a save (batched with its neighbours) or anything else (alone)."""

    incoming: Incoming
    bare: str
    run: Callable[[], Reply]
    plan: saving.SavePlan | None = None


def _handle_batch(batch: list[Incoming]) -> list[Reply | Exception]:
    outcomes: list[Reply | Exception | None] = [None] * len(batch)
    group: list[tuple[int, _Job]] = []
    answered: list[Incoming] = []  # handled without a write: recorded as received at the end
    with translation.override(settings.LANGUAGE_CODE):
        links = Links(batch)
        for index, incoming in enumerate(_new_messages(batch, outcomes)):
            if incoming is None:
                continue
            try:
                routed = _route(incoming, links)
            except Exception as exc:
                if isinstance(exc, DatabaseError):
                    _drop_connection_after_error()
                outcomes[index] = exc
                continue
            if isinstance(routed, Reply):
                outcomes[index] = routed
                if routed.record:
                    answered.append(incoming)
            elif routed.plan is not None:
                group.append((index, routed))
            else:
                _save_together(group, outcomes)
                group = []
                outcomes[index] = _run_alone(routed)
                links.forget(routed.bare)
        _save_together(group, outcomes)
        try:
            _record_received(answered)
        except UNAVAILABLE:  # what committed above stands; these only risk being answered twice
            log.warning("could not record %d answered messages as received", len(answered), exc_info=True)
    return outcomes  # type: ignore[return-value]  # every slot is filled


def _new_messages(batch: list[Incoming], outcomes: list) -> list[Incoming | None]:
    """The batch with copies of messages received before (or earlier in the batch) as None, answered with nothing."""
    ids = {incoming.archive_id for incoming in batch if incoming.archive_id}
    received = ReceivedMessage.objects.filter(archive_id__in=ids).values_list("archive_id", flat=True)
    seen = set(received) if ids else set()
    new: list[Incoming | None] = []
    for index, incoming in enumerate(batch):
        if incoming.archive_id and incoming.archive_id in seen:
            log.info("message %s from %s came again; dropped", incoming.archive_id, incoming.sender)
            outcomes[index] = Reply(None)
            new.append(None)
            continue
        seen.add(incoming.archive_id)
        new.append(incoming)
    return new


def _record_received(messages: list[Incoming]) -> None:
    """Record these messages as received; inside a transaction, a message received meanwhile raises."""
    ids = [incoming.archive_id for incoming in messages if incoming.archive_id]
    if not ids:
        return
    if connection.in_atomic_block:
        try:
            with transaction.atomic():
                ReceivedMessage.objects.bulk_create([ReceivedMessage(archive_id=pk) for pk in ids])
        except IntegrityError as exc:  # another gateway, or another copy, got there first
            raise AlreadyReceived(ids) from exc
    else:
        ReceivedMessage.objects.bulk_create([ReceivedMessage(archive_id=pk) for pk in ids], ignore_conflicts=True)


def _run_alone(job: _Job) -> Reply | Exception:
    """One job in a transaction of its own, recorded as received there: its reply once committed, or the exception."""
    try:
        with transaction.atomic():
            _record_received([job.incoming])
            return job.run()
    except AlreadyReceived:
        return Reply(None)
    except Exception as exc:
        if isinstance(exc, DatabaseError):
            _drop_connection_after_error()
        return exc


def _save_together(group: list[tuple[int, _Job]], outcomes: list) -> None:
    """Saves in one transaction; replies only once it committed.

    If anything fails, the transaction is rolled back and each job runs again
    alone, so a failing message gets its own exception and costs the others
    a second try only. Whether the transaction really committed is told by a
    commit hook, not by the absence of an exception: when the connection
    drops mid-batch, Django rolls the block back without raising.
    """
    if len(group) <= 1:
        for index, job in group:
            outcomes[index] = _run_alone(job)
        return
    nested = connection.in_atomic_block  # inside a caller's transaction: its commit is not ours to see
    committed: list[bool] = []
    try:
        with transaction.atomic():
            _record_received([job.incoming for _index, job in group])
            replies = [_reply(text) for text in saving.save_messages([job.plan for _index, job in group])]
            if not nested:
                transaction.on_commit(lambda: committed.append(True))
            elif not connection.needs_rollback:
                committed.append(True)
    except UNAVAILABLE as exc:  # the database, not a message: each alone would wait for it again
        log.warning("the database failed for a batch of %d saves", len(group), exc_info=True)
        for index, _job in group:
            outcomes[index] = exc
        return
    except Exception as exc:
        log.warning("a batch of %d saves failed; saving each alone", len(group), exc_info=True)
        if isinstance(exc, DatabaseError):
            _drop_connection_after_error()
    else:
        if committed:
            for (index, _job), reply in zip(group, replies, strict=True):
                outcomes[index] = reply
            return
        log.warning("a batch of %d saves was rolled back", len(group))
        _drop_connection_after_error()
    for index, job in group:
        outcomes[index] = _run_alone(job)


def _reply(saved: str | None) -> Reply:
    """A save's answer: its text now, or (None) a confirmation once its links are fetched."""
    return Reply(saved) if saved is not None else Reply(None, awaiting_confirmation=True)


class Links:
    """Bare JID -> verified ``LinkedJid`` (with its user), read once per batch of messages."""

    def __init__(self, batch: list[Incoming] = ()) -> None:
        bares = set()
        for incoming in batch:
            with contextlib.suppress(InvalidJID):
                bares.add(JID(incoming.sender).bare)
        self._known: dict[str, LinkedJid | None] = dict.fromkeys(bares)
        if bares:
            for linked in LinkedJid.objects.select_related("user", "user__preferences").filter(jid__in=bares):
                self._known[linked.jid] = linked

    def get(self, bare: str) -> LinkedJid | None:
        if bare not in self._known:
            self._known[bare] = LinkedJid.objects.select_related("user", "user__preferences").filter(jid=bare).first()
        return self._known[bare]

    def forget(self, bare: str) -> None:
        self._known.pop(bare, None)


def _route(incoming: Incoming, links: Links) -> Reply | _Job:
    """A reply needing no database write, or the job that writes; in the language of the sender's account.

    Strangers get the site's language (``LANGUAGE_CODE``); a linked person
    the one they chose in settings, with their time zone for dates.
    """
    try:
        bare = JID(incoming.sender).bare
    except InvalidJID:
        return Reply(None)
    linked = links.get(bare)
    user = linked.user if linked is not None else None
    with speaking_to(user):
        routed = _route_as(incoming, bare, user)
    if isinstance(routed, _Job):
        run = routed.run

        def in_their_language() -> Reply:
            with speaking_to(user):
                return run()

        routed.run = in_their_language
    return routed


def _route_as(incoming: Incoming, bare: str, user: AbstractBaseUser | None) -> Reply | _Job:
    size = len(incoming.body.encode("utf-8"))
    if size > settings.XMPP_MAX_BODY_BYTES:
        return Reply(commands.too_long_notice(size))
    if incoming.retracts:  # its body is only a fallback text for clients that do not know retractions
        if user is None:
            return Reply(None)
        return _Job(incoming, bare, lambda: Reply(corrections.retract(user, bare, incoming.retracts)))
    parsed = parse_message(incoming.body, incoming.oob_urls)
    if isinstance(parsed, Command) and parsed.name == "link":
        if user is None and not linking.code_waiting(bare):  # nothing to link: a stranger, told once an hour
            return Reply(commands.unknown_jid_notice(bare), record=False)
        return _Job(incoming, bare, lambda: _link(bare, parsed.args))
    if isinstance(parsed, Command) and parsed.name == "help":
        return Reply(commands.help_text())
    if user is None:
        return Reply(commands.unknown_jid_notice(bare), record=False)
    if incoming.replaces:
        return _Job(incoming, bare, lambda: _reply(corrections.correct(user, bare, incoming, parsed)))
    if isinstance(parsed, Save):
        plan = saving.plan_save(user, bare, incoming, parsed)
        return _Job(incoming, bare, lambda: _reply(saving.save_messages([plan])[0]), plan=plan)
    return _Job(incoming, bare, lambda: Reply(commands.run(user, bare, parsed)))


def _link(bare: str, typed: str) -> Reply:
    text = linking.link_with_code(bare, typed)
    return Reply(text, linked=LinkedJid.objects.filter(jid=bare).exists())


def slow_down_notice(bare: str | None) -> str:
    """What a sender over the rate limit is told once, in their language (the site's without ``bare``)."""
    user = None
    if bare is not None:
        fresh_connection()
        linked = Links().get(bare)
        user = linked.user if linked is not None else None
    with speaking_to(user):
        return commands.slow_down_text()


def record_dropped(archive_ids: list[str]) -> None:
    """Messages the bot dropped on purpose (over the rate limit): received, never to be caught up again."""
    fresh_connection()
    _record_received([Incoming("", "", archive_id=pk) for pk in archive_ids])

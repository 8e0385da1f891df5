"""What the bot does with chat messages: plain sync functions, no socket.

The slixmpp bot parses each stanza into an ``Incoming`` and runs
``handle_messages`` on the batch waiting in a database thread; each ``Reply``
says what to send back right away and whether a confirmation will follow (the
bot shows "composing" until then). ``handle_message`` runs one message
through the same path; tests call both directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Count
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from slixmpp import JID
from slixmpp.jid import InvalidJID

from bookmarks import services
from bookmarks.models import Bookmark, Tag
from bookmarks.normalize import normalize_url
from bookmarks.preferences import speaking_to
from bookmarks.search import search_bookmarks
from imgateway import linking
from imgateway.models import ChatSave, ChatSaveItem, HandledCommand, LinkedJid
from imgateway.parsing import Command, Save, parse_message

log = logging.getLogger(__name__)

UNKNOWN_JID_NOTICE_SECONDS = 3600
RECENT_DEFAULT, RECENT_MAX = 5, 20
FIND_MAX = 10
TAGS_MAX = 30
# A message delivered again within this time, after its save committed, is recognised as a copy.
REDELIVERY_WINDOW = timedelta(days=1)


@dataclass
class Incoming:
    sender: str  # the full JID the server stamped in ``from``
    body: str
    oob_urls: list[str] = field(default_factory=list)
    message_id: str = ""
    # The server stamped a delay (XEP-0203): stored offline, perhaps a second delivery.
    delayed: bool = False


@dataclass
class Reply:
    text: str | None
    # New bookmarks are being fetched: a confirmation will follow.
    awaiting_confirmation: bool = False


def bare_jid(jid: str) -> str:
    """The normalised bare JID (``Alice@Example.ORG/phone`` -> ``alice@example.org``)."""
    return JID(jid).bare


_checked = threading.local()
CONNECTION_CHECK_SECONDS = 30.0


def fresh_connection() -> None:
    """Drop a database connection that broke or aged while the thread was idle.

    Checked at most every CONNECTION_CHECK_SECONDS per thread: with SQLite
    (CONN_MAX_AGE=0) Django would otherwise close and reopen the connection
    for every message, a third of the cost of a save. Never inside a
    transaction (a test's, or a caller's): closing would end it.
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
    """Messages waiting in one database thread, in order: a reply, or the exception, for each.

    1. The senders' links are read in one query (``Links``).
    2. Consecutive saves share one transaction, each message in a savepoint
       of its own: one that fails is rolled back alone and gets its
       exception; the others commit together (one commit, one write lock).
    3. Anything else (commands, link codes, unknown senders) runs alone, in
       order, after the saves before it committed; a command forgets the
       sender's link, so ``unlink`` then a URL does not save it.
    4. If the shared commit fails, each of those saves runs again alone.
    4a. A message the database failed for (``UNAVAILABLE``: a dropped
       connection, a lock timeout) is tried once more on a new connection;
       failing again, its outcome is ``DatabaseUnavailable`` (kept, not
       answered).
    5. The fetch tasks of what committed are sent together at the end
       (``services.fetches_sent_together``).
    """
    fresh_connection()
    try:
        outcomes = _handle_batch(batch)
    except UNAVAILABLE:  # reading the links: the connection broke, or the database is locked
        log.warning("the database failed for a batch of %d messages; trying once more", len(batch), exc_info=True)
        _drop_connection_after_error()
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
    return outcomes


# Errors that say the database could not be reached or did not answer in
# time (a dropped connection, a restart, SQLite's lock timeout), not that the
# message is bad: the message is kept and saved later, never answered "failed".
UNAVAILABLE = (OperationalError, InterfaceError)


class DatabaseUnavailable(Exception):
    """The database failed twice for this message, the second time on a new connection.

    The bot keeps the message unacknowledged (the server holds it) and tries
    again later; the sender is told once that saving is delayed.
    """


def _handle_batch(batch: list[Incoming]) -> list[Reply | Exception]:
    outcomes: list[Reply | Exception | None] = [None] * len(batch)
    group: list[tuple[int, _Job]] = []
    with translation.override(settings.LANGUAGE_CODE), services.fetches_sent_together():
        links = Links(batch)
        for index, incoming in enumerate(batch):
            try:
                routed = _handle(incoming, links)
            except Exception as exc:
                if isinstance(exc, DatabaseError):
                    _drop_connection_after_error()
                outcomes[index] = exc
                continue
            if isinstance(routed, Reply):
                outcomes[index] = routed
            elif routed.is_save:
                group.append((index, routed))
            else:
                _save_together(group, outcomes)
                group = []
                outcomes[index] = _run_alone(routed)
                links.forget(routed.bare)
        _save_together(group, outcomes)
    return outcomes  # type: ignore[return-value]  # every slot is filled


def _run_alone(job: _Job) -> Reply | Exception:
    """One job in a transaction of its own: its reply once that committed, or the exception."""
    try:
        with transaction.atomic():
            return job.run()
    except Exception as exc:
        if isinstance(exc, DatabaseError):
            _drop_connection_after_error()
        return exc


def _save_together(group: list[tuple[int, _Job]], outcomes: list) -> None:
    """Saves in one transaction (``_save_planned``); replies only once it committed.

    If anything fails, the transaction is rolled back and each job runs again
    alone, so a failing message gets its own exception and costs the others
    a second try only. Whether the transaction really committed is told by a
    commit hook, not by the absence of an exception: when the connection
    drops mid-batch, Django rolls the block back without raising. If it did
    not commit, each job runs again alone too.
    """
    if len(group) == 1:
        index, job = group[0]
        outcomes[index] = _run_alone(job)
        return
    if not group:
        return
    nested = connection.in_atomic_block  # inside a caller's transaction: its commit is not ours to see
    committed: list[bool] = []
    try:
        with transaction.atomic():
            replies = _save_planned([job.plan for _index, job in group])
            if not nested:
                transaction.on_commit(lambda: committed.append(True))
            elif not connection.needs_rollback:
                committed.append(True)
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


class Links:
    """Bare JID -> verified ``LinkedJid`` (with its user), read once per batch of messages."""

    def __init__(self, batch: list[Incoming] = ()) -> None:
        bares = set()
        for incoming in batch:
            with contextlib.suppress(InvalidJID):
                bares.add(bare_jid(incoming.sender))
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


@dataclass
class _Job:
    """Database work routed from one message: a save (batched) or anything else (run alone)."""

    bare: str
    run: Callable[[], Reply]
    plan: _SavePlan | None = None  # a save's: saves of one batch are written together

    @property
    def is_save(self) -> bool:
        return self.plan is not None


def _handle(incoming: Incoming, links: Links) -> Reply | _Job:
    """Route one message, answered in the language of the account its sender is linked to.

    Strangers get the site's language (``LANGUAGE_CODE``); a linked person
    the one they chose in settings, with their time zone for dates.
    """
    try:
        bare = bare_jid(incoming.sender)
    except InvalidJID:
        return Reply(None)
    linked = links.get(bare)
    user = linked.user if linked is not None else None
    with speaking_to(user):
        routed = _route(incoming, bare, user)
    if isinstance(routed, _Job):
        routed.run = _speaking_to(user, routed.run)
    return routed


def _speaking_to(user: AbstractBaseUser | None, run: Callable[[], Reply]) -> Callable[[], Reply]:
    def in_their_language() -> Reply:
        with speaking_to(user):
            return run()

    return in_their_language


def _route(incoming: Incoming, bare: str, user: AbstractBaseUser | None) -> Reply | _Job:
    """A reply needing no database write, or the job that writes."""
    size = len(incoming.body.encode("utf-8"))
    if size > settings.XMPP_MAX_BODY_BYTES:
        return Reply(
            _("That message is too long (%(size)d bytes; at most %(limit)d). Nothing was saved.")
            % {"size": size, "limit": settings.XMPP_MAX_BODY_BYTES}
        )
    parsed = parse_message(incoming.body, incoming.oob_urls)
    if isinstance(parsed, Command) and parsed.name == "link":
        return _Job(bare, _once(bare, incoming, lambda: Reply(linking.link_with_code(bare, parsed.args))))
    if isinstance(parsed, Command) and parsed.name == "help":
        return Reply(help_text())
    if user is None:
        return Reply(_unknown_jid_notice(bare))
    if isinstance(parsed, Save):
        plan = _plan_save(user, bare, incoming, parsed)
        return _Job(bare, lambda: _save_planned([plan])[0], plan=plan)
    handler = COMMAND_HANDLERS.get(parsed.name, _unknown_command)
    run = lambda: Reply(handler(user, bare, parsed))  # noqa: E731
    return _Job(bare, _once(bare, incoming, run) if parsed.name in ACTS_ONCE else run)


# Commands that change something: a second delivery of one must not act again.
ACTS_ONCE = frozenset({"link", "unlink", "del", "undo"})


def _once(bare: str, incoming: Incoming, run: Callable[[], Reply]) -> Callable[[], Reply]:
    """``run`` recorded as handled (``HandledCommand``) in its transaction; a delayed copy of it is dropped.

    The job runs in a transaction of its own (``_run_alone``), so the record
    commits with the command's effect or not at all. Live messages cost one
    INSERT; only delay-stamped ones (offline storage) are looked up.
    """
    if not incoming.message_id:
        return run  # nothing to recognise a copy by
    key = hashlib.sha256("\0".join((bare, incoming.message_id, incoming.body)).encode("utf-8", "replace")).hexdigest()

    def run_once() -> Reply:
        if incoming.delayed and HandledCommand.objects.filter(key=key).exists():
            log.info("command %s from %s delivered again after it acted; dropped", incoming.message_id[:60], bare)
            return Reply(None)
        reply = run()
        HandledCommand.objects.bulk_create([HandledCommand(key=key)], ignore_conflicts=True)
        return reply

    return run_once


def forget_handled_commands() -> int:
    """The sweep: records of commands older than REDELIVERY_WINDOW go (a copy comes sooner)."""
    deleted, _by_model = HandledCommand.objects.filter(handled_at__lt=timezone.now() - REDELIVERY_WINDOW).delete()
    return deleted


def saving_delayed_notice() -> str:
    """Told once to a sender whose message waits for the database (in the site's language: it is down)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Saving is delayed: the database is not answering. I kept your message and will save it when it is back."
        )


def slow_down_notice(bare: str | None) -> str:
    """What a sender over the rate limit is told once, in their language (the site's without ``bare``)."""
    user = None
    if bare is not None:
        fresh_connection()
        linked = Links().get(bare)
        user = linked.user if linked is not None else None
    with speaking_to(user):
        # Messages over the limit are acknowledged and dropped: say so.
        return _("Slow down: too many messages. This one was not saved; send it again in a minute.")


def help_text() -> str:
    return "\n".join(
        [
            _("Send me a link and I save it for you. #words become tags; other text becomes the note."),
            _("Commands (with or without /):"),
            _("help (帮助): this text"),
            _("recent [N] (最近): your newest bookmarks"),
            _("find WORDS (搜索): search your bookmarks"),
            _("tags (标签): your tags"),
            _("del ID (删除): delete a bookmark"),
            _("undo (撤销): delete the last bookmark saved from this address"),
            _("link CODE: link this address to your account (code from %(url)s)")
            % {"url": f"{settings.SITE_URL}/settings/im/"},
            _("unlink (解绑): unlink this address"),
        ]
    )


def _unknown_jid_notice(bare: str) -> str | None:
    """One explanation per JID per hour; strangers cannot make the bot talk a lot."""
    key = f"{settings.XMPP_REDIS_PREFIX}:unknown-notice:{bare}"
    try:
        first = redis_client().set(key, "1", nx=True, ex=UNKNOWN_JID_NOTICE_SECONDS)
    except redis.RedisError:
        log.warning("Redis unavailable; not answering unknown JID %s", bare)
        return None
    if not first:
        return None
    return _(
        "This address is not linked to a favsite account yet. Log in at %(url)s, add this address "
        "and send me the code it shows, like: link ABCD2345"
    ) % {"url": f"{settings.SITE_URL}/settings/im/"}


_redis: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return _redis


@dataclass
class _SavePlan:
    """A chat message's links, checked and keyed before any transaction (``_plan_save``).

    ``entries`` follow the links' order: a prepared save, or the line that
    says why a link was not saved; ``trailing`` are the lines after them.
    """

    user: AbstractBaseUser
    bare: str
    incoming: Incoming
    parsed: Save
    entries: list[services.PreparedSave | str]
    trailing: list[str]


def _plan_save(user: AbstractBaseUser, bare: str, incoming: Incoming, parsed: Save) -> _SavePlan:
    """Everything a save works out without the database, in the sender's language (``_route`` runs in it)."""
    entries: list[services.PreparedSave | str] = []
    for url in parsed.urls:
        try:
            entries.append(
                services.prepare_save(user, url, tags=parsed.tags, note=parsed.note, source=Bookmark.Source.IM)
            )
        except services.InvalidURL as exc:
            entries.append(_("Not saved: %(url)s (%(reason)s)") % {"url": url, "reason": exc})
    trailing = [_("Not saved: %(url)s (only http:// and https:// links)") % {"url": piece} for piece in parsed.refused]
    trailing += [
        _("Not saved: %(url)s (at most %(n)d links per message)") % {"url": url, "n": len(parsed.urls)}
        for url in parsed.over_limit
    ]
    return _SavePlan(user, bare, incoming, parsed, entries, trailing)


def _save_planned(plans: list[_SavePlan]) -> list[Reply]:
    """Save the links of these messages together; new ones await a confirmation, the rest are answered now.

    All their links go to ``services.save_prepared`` in one call (the new ones
    in one INSERT), then their chat records in one INSERT and the records'
    items in another: a handful of statements for a batch of messages, not
    several per message. The chat records and the bookmarks are written in
    the caller's transaction, so a fetch (queued on commit) always finds the
    record to confirm. Every caller runs this in a transaction of its own
    (``_run_alone``, ``_save_together``), so no savepoint is taken here.
    """
    replies: list[Reply] = [Reply(None)] * len(plans)
    with transaction.atomic(savepoint=False):
        live = []
        seen: set[tuple[str, str]] = set()  # a copy of a message of this very batch has no record yet
        for index, plan in enumerate(plans):
            key = (plan.bare, plan.incoming.message_id)
            if plan.incoming.delayed and plan.incoming.message_id and key in seen:
                continue
            if not _delivered_again(plan.bare, plan.incoming, plan.parsed):
                live.append(index)
                if plan.incoming.message_id:
                    seen.add(key)
        prepared = [entry for index in live for entry in plans[index].entries if not isinstance(entry, str)]
        results = iter(services.save_prepared(prepared))
        records: list[tuple[ChatSave, list[Bookmark]]] = []
        for index in live:
            plan = plans[index]
            lines: list[str] = []
            created: list[Bookmark] = []
            with speaking_to(plan.user):
                for entry in plan.entries:
                    if isinstance(entry, str):
                        lines.append(entry)
                        continue
                    result = next(results)
                    if result.created:
                        created.append(result.bookmark)
                    else:
                        lines.append(already_saved_line(result.bookmark, result.first_saved_at))
                lines += plan.trailing
                if created:
                    incoming = plan.incoming
                    record = ChatSave(
                        user=plan.user, jid=incoming.sender, bare_jid=plan.bare, message_id=incoming.message_id[:200],
                        lines=lines,
                    )  # fmt: skip
                    records.append((record, created))
                    replies[index] = Reply(None, awaiting_confirmation=True)
                else:
                    replies[index] = Reply("\n".join(lines) or _("Nothing to save."))
        if records:
            ChatSave.objects.bulk_create([record for record, _created in records])
            ChatSaveItem.objects.bulk_create(
                ChatSaveItem(chat_save=record, bookmark=bookmark, url=bookmark.url, position=position)
                for record, created in records
                for position, bookmark in enumerate(created)
            )
    return replies


def _delivered_again(bare: str, incoming: Incoming, parsed: Save) -> bool:
    """Is this a copy of a message whose save committed (the server delivers again what we never acked)?

    The gateway acknowledges a message to the server only after its save
    commits; killed in between, it gets the message again. A copy has the
    server's delay stamp (Prosody's offline storage adds one), the sender and
    message id of a recent chat save, and carries every link that
    save created (a client reusing ids for other links is not taken for a
    copy). Its confirmation is on its way already, so the copy is dropped.
    Live messages have no delay stamp and cost no query here.
    A message whose links were all saved before made no chat save: a copy of
    it is answered "already saved" once more.
    """
    if not (incoming.delayed and incoming.message_id):
        return False  # a copy comes from offline storage, which stamps a delay
    earlier = (
        ChatSave.objects.filter(
            bare_jid=bare,
            message_id=incoming.message_id[:200],
            created_at__gte=timezone.now() - REDELIVERY_WINDOW,
        )
        .order_by("-created_at")
        .first()
    )
    if earlier is None:
        return False
    urls = set()
    for url in parsed.urls:
        with contextlib.suppress(ValueError):
            urls.add(normalize_url(url))
    saved = set()
    for url in earlier.items.values_list("url", flat=True):
        with contextlib.suppress(ValueError):
            saved.add(normalize_url(url))
    if saved and saved <= urls:
        log.info("message %s from %s delivered again after its save; dropped", incoming.message_id[:60], bare)
        return True
    return False


def already_saved_line(bookmark: Bookmark, first_saved_at) -> str:
    when = formats.date_format(timezone.localtime(first_saved_at), "Y-m-d")
    return _("Already saved on %(date)s: %(title)s\n%(url)s") % {
        "date": when,
        "title": bookmark.display_title,
        "url": bookmark.url,
    }


def _recent(user: AbstractBaseUser, bare: str, command: Command) -> str:
    try:
        count = int(command.args.split()[0]) if command.args.split() else RECENT_DEFAULT
    except ValueError:
        return _("Usage: recent [N], for example: recent 10")
    count = max(1, min(count, RECENT_MAX))
    bookmarks = list(Bookmark.objects.filter(owner=user)[:count])
    if not bookmarks:
        return _("You have no bookmarks yet. Send me a link!")
    return "\n".join(_listing_line(b) for b in bookmarks)


def _listing_line(bookmark: Bookmark) -> str:
    return f"[{bookmark.pk}] {bookmark.display_title}\n{bookmark.url}"


def _find(user: AbstractBaseUser, bare: str, command: Command) -> str:
    if not command.args.strip():
        return _("Usage: find WORDS, for example: find python asyncio")
    queryset = search_bookmarks(Bookmark.objects.filter(owner=user), command.args)
    bookmarks = list(queryset[: FIND_MAX + 1])
    if not bookmarks:
        return _("Nothing found for “%(query)s”.") % {"query": command.args.strip()}
    lines = [_listing_line(b) for b in bookmarks[:FIND_MAX]]
    if len(bookmarks) > FIND_MAX:
        lines.append(_("More on the web: %(url)s") % {"url": f"{settings.SITE_URL}/bookmarks/"})
    return "\n".join(lines)


def _tags(user: AbstractBaseUser, bare: str, command: Command) -> str:
    tags = list(
        Tag.objects.filter(owner=user).annotate(n=Count("bookmarks")).filter(n__gt=0).order_by("-n", "name")[:TAGS_MAX]
    )
    if not tags:
        return _("You have no tags yet. Add #words to a link to tag it.")
    return " ".join(f"#{tag.name} ({tag.n})" for tag in tags)


def _delete(user: AbstractBaseUser, bare: str, command: Command) -> str:
    ids = [piece.lstrip("#[").rstrip("]") for piece in command.args.split()]
    # ASCII digits that fit a database integer ("²" is a digit to isdigit(), and
    # a 30-digit id overflows SQLite's INTEGER): anything else is a usage error.
    if not ids or not all(piece.isascii() and piece.isdigit() and len(piece) <= 18 for piece in ids):
        return _("Usage: del ID (the number shown by recent or find)")
    deleted = services.delete_bookmarks(user, [int(piece) for piece in ids])
    if not deleted:
        return _("No such bookmark.")
    return ngettext("Deleted %(n)d bookmark.", "Deleted %(n)d bookmarks.", deleted) % {"n": deleted}


def _undo(user: AbstractBaseUser, bare: str, command: Command) -> str:
    item = (
        ChatSaveItem.objects.filter(chat_save__bare_jid=bare, chat_save__user=user, bookmark__isnull=False)
        .select_related("bookmark")
        .order_by("-chat_save__created_at", "-position", "-id")
        .first()
    )
    if item is None:
        return _("Nothing to undo.")
    title, url = item.bookmark.display_title, item.bookmark.url
    services.delete_bookmarks(user, [item.bookmark_id])
    return _("Removed: %(title)s\n%(url)s") % {"title": title, "url": url}


def _unlink(user: AbstractBaseUser, bare: str, command: Command) -> str:
    linking.unlink(user, bare)
    return _("This address is no longer linked to %(name)s. Link it again at %(url)s") % {
        "name": user.get_username(),
        "url": f"{settings.SITE_URL}/settings/im/",
    }


def _unknown_command(user: AbstractBaseUser, bare: str, command: Command) -> str:
    if command.word:
        return _("I don't know “%(word)s”. Send a link to save it, or help for the commands.") % {
            "word": command.word[:40]
        }
    return _("Send a link to save it, or help for the commands.")


COMMAND_HANDLERS = {
    "recent": _recent,
    "find": _find,
    "tags": _tags,
    "del": _delete,
    "undo": _undo,
    "unlink": _unlink,
}


def subscription_allowed(bare: str, roster: list[str]) -> bool:
    """Approve a presence subscription? Linked JIDs always; strangers up to a cap.

    ``roster`` holds the bare JIDs the bot's roster has now.
    """
    fresh_connection()
    if LinkedJid.objects.filter(jid=bare).exists():
        return True
    others = set(roster) - {bare}
    linked = set(LinkedJid.objects.filter(jid__in=list(others)).values_list("jid", flat=True)) if others else set()
    return len(others - linked) < settings.XMPP_ROSTER_MAX_STRANGERS

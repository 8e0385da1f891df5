"""Confirmations from the worker to the gateway, through a Redis stream.

1. When a fetch ends for good, ``bookmark_fetch_recorded`` fires in the
   worker, inside the transaction that writes the result;
   ``on_fetch_recorded`` finds the chat saves waiting for that bookmark.
2. A chat save whose bookmarks are all done is claimed with a conditional
   update (``queued_at``) in that transaction; its rendered reply is added to
   the stream after the commit.
3. The gateway reads the stream with a consumer group, sends the message,
   marks the save ``sent_at`` and acks the entry. Entries it read but never
   acked (it crashed) are read again when it comes back.
4. The beat sweep (``imgateway.tasks.resend_confirmations``) adds again any
   save queued long ago but never sent, and any complete save never queued.
A confirmation is sent once: the gateway skips entries whose save is sent.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookmarks.models import Bookmark, Preferences
from bookmarks.preferences import speaking_to
from bookmarks.row_check import row_check
from bookmarks.sent_together import SentTogether
from imgateway.handling import fresh_connection, redis_client
from imgateway.models import ChatSave, ChatSaveItem

log = logging.getLogger(__name__)

GROUP = "gateway"
STREAM_MAXLEN = 100_000
RESEND_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=1)


def stream_name() -> str:
    return f"{settings.XMPP_REDIS_PREFIX}:outbox"


def on_fetch_recorded(sender: object, bookmarks: list[Bookmark], **kwargs: object) -> None:
    """Receiver of ``bookmarks.signals.bookmark_fetch_recorded`` (connected in apps.ready).

    Runs inside the transaction that wrote the fetches' results, so the claim
    of a finished save costs no write transaction of its own (SQLite has one
    writer; every extra one waits for the lock). The bookmarks are handled as
    a set, in a fixed number of statements (the worker writes the results of
    fetches ending together at once: ``bookmarks.group_commit`` says why).

    1. One query reads every item of the unqueued chat saves holding these
       bookmarks, with what their confirmation says.
    2. PostgreSQL, when another item of such a save looked unfinished: those
       saves are locked (``FOR UPDATE``, in id order) and read again. Of two
       items of one save finishing at once, the second to lock waits until
       the first committed and then reads its result, so one of them sees
       the save complete. A save of one link (the common case) needs no
       lock. (SQLite: the result's UPDATE already holds the database's one
       write lock, so the read sees every committed result.)
    3. The complete saves are claimed (``queued_at``, one conditional
       UPDATE); their replies go on the stream once the transaction commits.
    """
    bookmark_ids = [bookmark.pk for bookmark in bookmarks if bookmark.source == Bookmark.Source.IM]
    if not bookmark_ids:
        return
    waiting = _waiting_saves(bookmark_ids)
    unfinished = sorted(chat_save.pk for chat_save, items in waiting if _unfinished(items))
    if unfinished and connection.features.has_select_for_update:
        # Another link of a save looked unfinished, but its result may be
        # committing right now, not seeing ours either: lock, then read again.
        with connection.cursor() as cursor:
            cursor.execute(_lock_sql(connection.vendor, len(unfinished)), unfinished)
        waiting = _waiting_saves(bookmark_ids)
    complete = [(chat_save, items) for chat_save, items in waiting if not _unfinished(items)]
    claimed = _claim_many([chat_save.pk for chat_save, _items in complete])
    confirmations = [(chat_save, items) for chat_save, items in complete if chat_save.pk in claimed]
    if confirmations:
        transaction.on_commit(functools.partial(_add_to_stream, confirmations))


def _unfinished(items: list[ChatSaveItem]) -> bool:
    return any(item.bookmark is not None and item.bookmark.status == Bookmark.Status.PENDING for item in items)


def _add_to_stream(confirmations: list[tuple[ChatSave, list[ChatSaveItem]]]) -> None:
    for confirmation in confirmations:
        confirmations_sent_together.add(confirmation)


def _add_all(confirmations: list[tuple[ChatSave, list[ChatSaveItem] | None]]) -> None:
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            for chat_save, items in confirmations:
                try:
                    _xadd(pipe, chat_save, items)
                except Exception:  # one that cannot be written must not hold back the others
                    log.exception("could not write confirmation %s; the sweep tries again", chat_save.pk)
            pipe.execute()
    except redis.RedisError:
        # The sweep queues them again later (RESEND_AFTER): the rows are the durable record.
        log.warning("could not queue confirmations %s", [save.pk for save, _items in confirmations], exc_info=True)


# ``with confirmations_sent_together():`` confirmations queued by commits inside
# the block go on the stream when it ends, in one pipeline. The worker writes
# the results of fetches finishing at once in one transaction
# (``bookmarks.group_commit``, a scope of it); one XADD each after it was a
# fifth of the worker's time with the GIL in the ingest benchmark.
confirmations_sent_together = SentTogether(_add_all)


def _in(count: int) -> str:
    return f"IN ({', '.join(['%s'] * count)})"


@functools.lru_cache(maxsize=128)
def _lock_sql(vendor: str, count: int) -> str:
    q = connection.ops.quote_name
    table = q(ChatSave._meta.db_table)
    return f"SELECT {q('id')} FROM {table} WHERE {q('id')} {_in(count)} ORDER BY {q('id')} FOR UPDATE"  # noqa: S608


# This runs once per fetched link, hundreds of times a second in a busy
# worker: built through the ORM (a subquery, two joins, three models) it was
# about 40% of the worker's Python time, so the statements are written once
# here from the models' own table and column names. The only condition is
# the bookmarks' items, found by their index; saves queued already are left
# out in Python (a bookmark is in one save, two at most). With "not queued"
# in the SQL, PostgreSQL's planner, its statistics behind a flood of new
# saves, scanned every chat save for each fetched link (5.7 ms of server
# time per link with 2,000 waiting, growing with them).
@functools.lru_cache(maxsize=128)
def _waiting_sql(vendor: str, count: int) -> str:
    q = connection.ops.quote_name
    item, save, mark = ChatSaveItem._meta.db_table, ChatSave._meta.db_table, Bookmark._meta.db_table
    columns = [
        "i.chat_save_id", "i.id", "i.url", "i.position", "s.queued_at", "s.jid", "s.lines", "s.user_id", "p.id",
        "p.language", "p.time_zone", "b.id", "b.status", "b.title", "b.page_title", "b.url", "b.fetch_error",
    ]  # fmt: skip
    selected = ", ".join(f"{alias}.{q(column)}" for alias, column in (name.split(".") for name in columns))
    joins = [
        ("JOIN", save, "s", f"s.{q('id')} = w.{q('chat_save_id')}"),
        ("JOIN", item, "i", f"i.{q('chat_save_id')} = s.{q('id')}"),
        ("LEFT JOIN", mark, "b", f"b.{q('id')} = i.{q('bookmark_id')}"),
        ("LEFT JOIN", Preferences._meta.db_table, "p", f"p.{q('user_id')} = s.{q('user_id')}"),
    ]
    joined = " ".join(_lookup_join(vendor, *join) for join in joins)
    return f"SELECT {selected} FROM {q(item)} w {joined} WHERE w.{q('bookmark_id')} {_in(count)}"  # noqa: S608


def _lookup_join(vendor: str, kind: str, table: str, alias: str, condition: str) -> str:
    """A join that looks up the rows of ``table`` matching each row found so far, by ``condition``'s index.

    PostgreSQL, while a table's statistics lag behind a flood of new chat
    saves (a new site: autovacuum analyzes a minute or more later), planned
    this query as hash joins that read every chat save, item and bookmark for
    each group of fetched links: 4.5 ms with 3,800 of each, growing with them.
    A LATERAL subquery with ``OFFSET 0`` cannot be flattened into a join, so
    it runs once for each row before it, as an index lookup, whatever the
    statistics say. SQLite plans these joins as lookups already.
    """
    q = connection.ops.quote_name
    if vendor == "postgresql":
        return f"{kind} LATERAL (SELECT * FROM {q(table)} {alias} WHERE {condition} OFFSET 0) {alias} ON TRUE"  # noqa: S608
    return f"{kind} {q(table)} {alias} ON {condition}"


def _waiting_saves(bookmark_ids: list[int]) -> list[tuple[ChatSave, list[ChatSaveItem]]]:
    """The unqueued chat saves holding any of ``bookmark_ids``, each with its items, their bookmarks
    and the owner's preferences (what ``render`` reads), as unsaved model instances."""
    lines_field = ChatSave._meta.get_field("lines")
    user_model = ChatSave._meta.get_field("user").related_model
    cached_preferences = user_model.preferences.related  # the reverse one-to-one's cache
    saves: dict[int, tuple[ChatSave, list[ChatSaveItem]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_waiting_sql(connection.vendor, len(bookmark_ids)), bookmark_ids)
        rows = cursor.fetchall()
    seen: set[int] = set()  # an item is read once for each of its save's bookmarks given
    for row in rows:
        save_id, item_id, item_url, position, queued_at, jid, lines, user_id, prefs_id, language, zone = row[:11]
        mark_id, status, title, page_title, url, error = row[11:]
        if queued_at is not None or item_id in seen:
            continue  # its confirmation is on its way, or the item is read already
        seen.add(item_id)
        if save_id not in saves:
            user = user_model(pk=user_id)
            preferences = Preferences(id=prefs_id, user_id=user_id, language=language, time_zone=zone)
            cached_preferences.set_cached_value(user, preferences if prefs_id is not None else None)
            lines = lines_field.from_db_value(lines, None, connection)
            saves[save_id] = (ChatSave(id=save_id, jid=jid, lines=lines, user=user), [])
        chat_save, items = saves[save_id]
        item = ChatSaveItem(id=item_id, chat_save_id=save_id, bookmark_id=mark_id, url=item_url, position=position)
        if mark_id is not None:
            item.bookmark = Bookmark(
                id=mark_id, status=status, title=title, page_title=page_title, url=url, fetch_error=error
            )
        items.append(item)
    return list(saves.values())


def queue_if_complete(save_id: int, *, again: bool = False) -> bool:
    """Put the confirmation of chat save ``save_id`` on the stream once all its fetches ended."""
    if ChatSaveItem.objects.filter(chat_save_id=save_id, bookmark__status=Bookmark.Status.PENDING).exists():
        return False
    chat_save = ChatSave.objects.filter(pk=save_id).select_related("user__preferences").first()
    if chat_save is None or not _claim_many([save_id], again=again):
        return False  # gone, or someone else queued it, or it was sent
    _xadd(redis_client(), chat_save, None)
    return True


def _xadd(client: redis.Redis, chat_save: ChatSave, items: list[ChatSaveItem] | None) -> None:
    client.xadd(
        stream_name(),
        {"save": str(chat_save.pk), "to": chat_save.jid, "body": render(chat_save, items)},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )


@functools.lru_cache(maxsize=128)
def _claim_sql(vendor: str, count: int, again: bool) -> str:
    q = connection.ops.quote_name
    sql = f"UPDATE {q(ChatSave._meta.db_table)} SET {q('queued_at')} = %s "  # noqa: S608 (names only)
    return sql + f"WHERE {_unsent_among(count, never_queued=not again)} RETURNING {q('id')}"


def _unsent_among(count: int, *, never_queued: bool = False) -> str:
    """The condition: one of ``count`` ids given, not sent (and, with ``never_queued``, never queued).

    The ids find the rows; the rest only checks them (``bookmarks.row_check``:
    an index on ``sent_at`` read every unsent save for each lookup during a flood).
    """
    q = connection.ops.quote_name
    unsent = f"{q('sent_at')} IS NULL" + (f" AND {q('queued_at')} IS NULL" if never_queued else "")
    return f"{q('id')} {_in(count)} AND {row_check(unsent)}"


def _claim_many(save_ids: list[int], *, again: bool = False) -> set[int]:
    """Set ``queued_at`` on the saves not sent (and, unless ``again``, never queued): one conditional
    UPDATE. The ids claimed."""
    if not save_ids:
        return set()
    now = ChatSave._meta.get_field("queued_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor, len(save_ids), again), [now, *save_ids])
        return {row[0] for row in cursor.fetchall()}


def render(chat_save: ChatSave, items: list[ChatSaveItem] | None = None) -> str:
    """``Saved: <title>`` and the URL for each new bookmark, then the other lines.

    ``items``: the save's items with their bookmarks, when the caller has them.
    """
    if items is None:
        items = list(chat_save.items.select_related("bookmark"))
    lines = []
    with speaking_to(chat_save.user):  # their language, whenever the confirmation is written
        for item in sorted(items, key=lambda item: (item.position, item.pk)):
            bookmark = item.bookmark
            if bookmark is None:
                lines.append(_("Saved, then deleted: %(url)s") % {"url": item.url})
            elif bookmark.status == Bookmark.Status.OK or bookmark.title:
                lines.append(_("Saved: %(title)s\n%(url)s") % {"title": bookmark.display_title, "url": bookmark.url})
            else:
                reason = bookmark.fetch_error or _("the page gave no title")
                lines.append(
                    _("Saved without a title (%(reason)s):\n%(url)s") % {"reason": reason, "url": bookmark.url}
                )
        lines.extend(chat_save.lines or [])
    return "\n".join(lines)


def mark_sent(save_id: int) -> bool:
    """Record that the confirmation went out; False when it already had."""
    return mark_sent_many([save_id]) == 1


def mark_sent_many(save_ids: list[int]) -> int:
    """Record that these confirmations went out; how many were not marked before."""
    fresh_connection()
    if not save_ids:
        return 0
    q = connection.ops.quote_name
    now = ChatSave._meta.get_field("sent_at").get_db_prep_save(timezone.now(), connection)
    sql = f"UPDATE {q(ChatSave._meta.db_table)} SET {q('sent_at')} = %s WHERE {_unsent_among(len(save_ids))}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *save_ids])
        return cursor.rowcount


def unsent(save_ids: list[int]) -> set[int]:
    """The chat saves among ``save_ids`` whose confirmation was not sent (gone ones are left out)."""
    fresh_connection()
    if not save_ids:
        return set()
    q = connection.ops.quote_name
    sql = f"SELECT {q('id')} FROM {q(ChatSave._meta.db_table)} WHERE {_unsent_among(len(save_ids))}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, save_ids)
        return {row[0] for row in cursor.fetchall()}


def resend_unsent() -> int:
    """The sweep: queue again what was never sent. Returns how many were queued."""
    now = timezone.now()
    unsent = ChatSave.objects.filter(sent_at__isnull=True, created_at__gte=now - GIVE_UP_AFTER)
    count = 0
    for save_id in unsent.filter(queued_at__isnull=True).values_list("pk", flat=True):
        count += queue_if_complete(save_id)
    for save_id in unsent.filter(queued_at__lt=now - RESEND_AFTER).values_list("pk", flat=True):
        count += queue_if_complete(save_id, again=True)
    return count

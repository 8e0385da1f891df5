"""Importing many bookmarks at once (files, Pinboard JSON): few queries, merged like ``save_url``.

A row-by-row ``save_url`` costs several queries per bookmark; a 100,000-line
file would take minutes. Here:

1. Every entry is checked and keyed (``normalize_url``); bad ones are skipped
   with a reason; duplicates within the file are merged in memory with the
   re-saving rules (typed title wins, notes appended, tags merged, newest date).
2. Entries go to the database in batches, each in one transaction: one query
   finds the bookmarks the person already has, new ones are bulk-inserted,
   known ones are merged (``services.merge_resave``) and bulk-updated.
3. Missing tags are bulk-inserted (ignoring ones another request made
   meanwhile) and the bookmark-tag rows are bulk-inserted.

Imported bookmarks come with their titles from the file and are not queued
for fetching (a big import must not flood the fetch queue); ones without a
title show their address until edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from bookmarks.interchange.entries import BookmarkEntry, tag_name
from bookmarks.models import TAG_MAX_LENGTH, Bookmark, Tag
from bookmarks.normalize import InvalidURL, normalize_url, url_hash
from bookmarks.search import FTS_TABLE, SEARCH_FIELDS
from bookmarks.services.saving import NOTE_MAX_LENGTH, clean_text, merge_resave

BATCH_SIZE = 10_000
_SQLITE_IN_CHUNK = 10_000  # ids per IN (...): SQLite allows 32,766 parameters per statement
_FTS_INSERT_TRIGGER = "bookmarks_bookmark_fts_ai"  # bookmarks/migrations/0003_search_indexes.py


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    # (url, reason) for every entry that was not imported.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (url, message) for entries imported with a repair (an unreadable date).
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Row:
    url: str
    key: str
    digest: str
    title: str
    note: str
    tags: dict[str, str]  # lower-case name -> name as first written
    created_at: datetime
    added_at: datetime
    modified_at: datetime | None
    is_private: bool
    unread: bool
    warnings: list[str] = field(default_factory=list)


def import_bookmarks(
    user: AbstractBaseUser,
    entries: Iterable[BookmarkEntry],
    *,
    folders_as_tags: bool = False,
    fetch_missing_titles: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Save many bookmarks at once, merging like ``save_url``; ``progress(done, total)`` after each batch.

    New bookmarks without a title are left ``pending`` for the beat sweep to
    fetch (a batch a minute) only when ``fetch_missing_titles`` is set.
    """
    now = timezone.now()
    result = ImportResult()
    rows = list(_merge_entries(entries, folders_as_tags, now, result).values())
    if progress:
        progress(0, len(rows))
    if connection.vendor == "sqlite":
        # The per-owner unique index on url_hash takes inserts at random places;
        # with SQLite's default 2 MB page cache a big import spends its time
        # re-reading index pages. 64 MB for this connection keeps them in memory.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
    tag_ids = dict(_tag_ids(user))
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        for attempt in range(3):
            try:
                created, updated = _save_chunk(user, chunk, tag_ids, now, fetch_missing_titles)
                break
            except IntegrityError:
                # Someone saved one of these URLs (or tags) meanwhile: look again.
                if attempt == 2:
                    raise
                tag_ids.clear()
                tag_ids.update(_tag_ids(user))
        result.created += created
        result.updated += updated
        if progress:
            progress(start + len(chunk), len(rows))
    return result


def _tag_ids(user: AbstractBaseUser) -> QuerySet:
    """(lower-case name, id) of the user's tags."""
    return Tag.objects.filter(owner=user).annotate(lname=Lower("name")).values_list("lname", "id")


def _merge_entries(
    entries: Iterable[BookmarkEntry], folders_as_tags: bool, now: datetime, result: ImportResult
) -> dict[str, _Row]:
    rows: dict[str, _Row] = {}
    for entry in entries:
        try:
            key = normalize_url(entry.url)
        except InvalidURL as exc:
            result.skipped.append((entry.url, str(exc)))
            continue
        names = list(entry.tags)
        if folders_as_tags:
            names.extend(entry.folders)
        tags: dict[str, str] = {}
        for raw in names:
            name = tag_name(raw)[:TAG_MAX_LENGTH]
            if name:
                tags.setdefault(name.lower(), name)
        created = entry.created_at or now
        row = _Row(
            url=entry.url.strip(),
            key=key,
            digest=url_hash(key),
            title=clean_text(entry.title)[:500],
            note=clean_text(entry.note)[:NOTE_MAX_LENGTH],
            tags=tags,
            created_at=created,
            added_at=max(entry.added_at or created, created),
            modified_at=entry.modified_at,
            is_private=entry.is_private,
            unread=entry.unread,
        )
        for message in entry.warnings:
            result.warnings.append((entry.url, message))
        known = rows.get(row.digest)
        if known is None:
            rows[row.digest] = row
        else:
            _merge_rows(known, row)
    return rows


def _merge_rows(known: _Row, row: _Row) -> None:
    """The same URL twice in one file: as if the second line re-saved the first."""
    merge_resave(known, row.title, row.note, row.added_at)
    for lower, name in row.tags.items():
        known.tags.setdefault(lower, name)
    known.created_at = min(known.created_at, row.created_at)
    if row.modified_at and (known.modified_at is None or row.modified_at > known.modified_at):
        known.modified_at = row.modified_at
    known.is_private = known.is_private or row.is_private
    known.unread = known.unread or row.unread


def _save_chunk(
    user: AbstractBaseUser, chunk: list[_Row], tag_ids: dict[str, int], now: datetime, fetch_missing_titles: bool
) -> tuple[int, int]:
    with transaction.atomic():
        existing = {
            bookmark.url_hash: bookmark
            for bookmark in Bookmark.objects.select_for_update().filter(
                owner=user, url_hash__in=[row.digest for row in chunk]
            )
        }
        new: list[_Row] = []
        known: list[tuple[int, _Row]] = []
        changed: list[tuple] = []
        for row in chunk:
            bookmark = existing.get(row.digest)
            if bookmark is None:
                new.append(row)
                continue
            before = (bookmark.title, bookmark.note, bookmark.added_at)
            merge_resave(bookmark, row.title, row.note, row.added_at)
            known.append((bookmark.pk, row))
            # Rows the merge left as they were are not rewritten: re-importing
            # the same file should not rewrite (and re-index) every row.
            if (bookmark.title, bookmark.note, bookmark.added_at) != before:
                changed.append((bookmark.pk, bookmark.title, bookmark.note, bookmark.added_at, now))
        with _sqlite_search_index_filled_in_bulk() as index_rows:
            ids = _insert_bookmarks(user, new, now, fetch_missing_titles)
            index_rows(list(ids.values()))
        columns = ["title", "note", "added_at", "updated_at"]
        _update_columns(columns, changed)
        _link_tags(user, [(ids[row.digest], row) for row in new], known, tag_ids)
    return len(new), len(known)


# Columns the importer sets per row, in this order; all others take the model default.
_VARYING = (
    "url",
    "normalized_url",
    "url_hash",
    "title",
    "note",
    "created_at",
    "added_at",
    "updated_at",
    "is_private",
    "unread",
)


def _insert_bookmarks(
    user: AbstractBaseUser, rows: list[_Row], now: datetime, fetch_missing_titles: bool = False
) -> dict[str, int]:
    """Insert new bookmarks with plain multi-row INSERTs; returns url_hash -> id.

    ``bulk_create`` prepares every field of every object in Python, which was
    most of the time of a big import; the columns that do not vary per row are
    prepared once here from a template instance, so model defaults still apply.
    """
    if not rows:
        return {}
    template = Bookmark(owner=user, status=Bookmark.Status.OK, source=Bookmark.Source.IMPORT)
    fields = [field for field in Bookmark._meta.concrete_fields if not field.primary_key]
    constants = {f.column: f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields}
    adapt_date = connection.ops.adapt_datetimefield_value  # the field's prep minus checks done already
    columns = [field.column for field in fields]
    base = [constants[column] for column in columns]
    slots = [columns.index(name) for name in _VARYING]
    status_slot = columns.index("status")
    records = []
    for row in rows:
        record = base.copy()
        values = (
            row.url,
            row.key,
            row.digest,
            row.title,
            row.note,
            adapt_date(row.created_at),
            adapt_date(row.added_at),
            # the file's LAST_MODIFIED when it has one (auto_now only acts in save())
            adapt_date(row.modified_at or now),
            row.is_private,
            row.unread,
        )
        for slot, value in zip(slots, values, strict=True):
            record[slot] = value
        if fetch_missing_titles and not row.title:
            # Left for the beat sweep, which queues at most a batch a minute:
            # titles arrive over time and the fetch queue is never flooded.
            record[status_slot] = Bookmark.Status.PENDING
        records.append(record)
    if connection.vendor == "postgresql":
        return _copy_rows(columns, records, [row.digest for row in rows])
    return _insert_rows(user, columns, records, [row.digest for row in rows])


def _insert_rows(user: AbstractBaseUser, columns: list[str], records: list[list], digests: list[str]) -> dict[str, int]:
    """SQLite: one prepared single-row INSERT run for every record (faster than huge multi-row
    statements), then the new ids read back by url_hash."""
    quote = connection.ops.quote_name
    table = quote(Bookmark._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 (names only)
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.executemany(sql, records)
        for start in range(0, len(digests), _SQLITE_IN_CHUNK):
            batch = digests[start : start + _SQLITE_IN_CHUNK]
            cursor.execute(
                f"SELECT {quote('url_hash')}, {quote('id')} FROM {table} "  # noqa: S608 (names only)
                f"WHERE {quote('owner_id')} = %s AND {quote('url_hash')} IN ({', '.join(['%s'] * len(batch))})",
                [user.pk, *batch],
            )
            ids.update(cursor.fetchall())
    return ids


@contextmanager
def _sqlite_search_index_filled_in_bulk() -> Iterator[Callable[[list[int]], None]]:
    """SQLite: fill the FTS5 search table with one statement per batch instead of a trigger per row.

    The insert trigger (bookmarks/migrations/0003) costs about 90 µs a row, nine
    seconds for 100,000; one INSERT ... SELECT does the same in about one. The
    trigger is dropped and re-created inside the batch's transaction, so no
    other connection ever sees it missing, and a failure rolls both back.
    """
    trigger_sql = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [_FTS_INSERT_TRIGGER])
            found = cursor.fetchone()
            trigger_sql = found[0] if found else None
            if trigger_sql:
                cursor.execute(f"DROP TRIGGER {_FTS_INSERT_TRIGGER}")

    def index_rows(ids: list[int]) -> None:
        if not trigger_sql or not ids:
            return
        columns = ", ".join(SEARCH_FIELDS)
        with connection.cursor() as cursor:
            for start in range(0, len(ids), _SQLITE_IN_CHUNK):
                batch = ids[start : start + _SQLITE_IN_CHUNK]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"INSERT INTO {FTS_TABLE} (rowid, {columns}) "  # noqa: S608 (names only)
                    f"SELECT id, {columns} FROM {Bookmark._meta.db_table} WHERE id IN ({marks})",
                    batch,
                )

    yield index_rows
    if trigger_sql:
        with connection.cursor() as cursor:
            cursor.execute(trigger_sql)


def _copy_rows(columns: list[str], records: list[list], digests: list[str]) -> dict[str, int]:
    """PostgreSQL: ids taken from the sequence up front, then one COPY (a big INSERT is slow to bind)."""
    quote = connection.ops.quote_name
    table = Bookmark._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(records)]
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    names = ", ".join(quote(c) for c in ["id", *columns])
    with connection.connection.cursor() as raw, raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
        for pk, record in zip(ids, records, strict=True):
            copy.write_row([pk, *record])
    return dict(zip(digests, ids, strict=True))


def _update_columns(columns: list[str], rows: list[tuple], batch_size: int = 500) -> None:
    """Set ``columns`` of many bookmarks, one statement per batch: ``rows`` are ``(id, value, ...)``.

    ``bulk_update`` builds a CASE per column and row, which costs seconds per
    10,000 rows; ``WITH v AS (VALUES ...) UPDATE ... FROM v`` (PostgreSQL, and
    SQLite since 3.33) costs milliseconds.
    """
    if not rows:
        return
    fields = [Bookmark._meta.get_field(name) for name in columns]
    casts = [""] + [f"::{field.cast_db_type(connection)}" for field in fields]
    if connection.vendor != "postgresql":
        casts = [""] * len(casts)
    quote = connection.ops.quote_name
    names = ["id", *columns]
    placeholder = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    assignments = ", ".join(f"{quote(name)} = v.{quote(name)}" for name in columns)
    table = quote(Bookmark._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params: list = []
            for row in batch:
                params.append(row[0])
                params.extend(
                    field.get_db_prep_save(value, connection) for field, value in zip(fields, row[1:], strict=True)
                )
            # Only quoted model names and placeholders go into the text; values are parameters.
            values = ", ".join([placeholder] * len(batch))
            sql = (
                f"WITH v ({', '.join(quote(name) for name in names)}) AS (VALUES {values}) "  # noqa: S608
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{quote('id')} = v.{quote('id')}"
            )
            cursor.execute(sql, params)


def _link_tags(
    user: AbstractBaseUser, new: list[tuple[int, _Row]], known: list[tuple[int, _Row]], tag_ids: dict[str, int]
) -> None:
    pairs = new + known
    wanted: dict[str, str] = {}
    for _pk, row in pairs:
        for lower, name in row.tags.items():
            if lower not in tag_ids:
                wanted.setdefault(lower, name)
    if wanted:
        Tag.objects.bulk_create([Tag(owner=user, name=name) for name in wanted.values()], ignore_conflicts=True)
        tag_ids.update(_tag_ids(user).filter(lname__in=list(wanted)))
    through = Bookmark.tags.through._meta
    quote = connection.ops.quote_name
    columns = f"({quote(through.get_field('bookmark').column)}, {quote(through.get_field('tag').column)})"
    if connection.vendor == "postgresql":
        # New bookmarks have no tag rows yet: COPY them; merged ones may have some.
        with (
            connection.connection.cursor() as raw,
            raw.copy(f"COPY {quote(through.db_table)} {columns} FROM STDIN") as copy,
        ):
            for pk, row in new:
                for lower in row.tags:
                    copy.write_row((pk, tag_ids[lower]))
        pairs = known
    links = [(pk, tag_ids[lower]) for pk, row in pairs for lower in row.tags]
    with connection.cursor() as cursor:
        for start in range(0, len(links), 10_000):
            batch = links[start : start + 10_000]
            sql = (
                f"INSERT INTO {quote(through.db_table)} {columns} "  # noqa: S608 (names only)
                f"VALUES {', '.join(['(%s, %s)'] * len(batch))} ON CONFLICT DO NOTHING"
            )
            cursor.execute(sql, [value for link in batch for value in link])

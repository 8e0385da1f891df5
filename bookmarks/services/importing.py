"""Importing many bookmarks at once (files, Pinboard JSON): few queries, merged like ``save_url``.

A row-by-row ``save_url`` costs several queries per bookmark; a 100,000-line
file would take minutes. Here:

1. Every entry is checked and keyed (``normalize_url``); bad ones are skipped
   with a reason; duplicates within the file are merged in memory with the
   re-saving rules (typed title wins, notes appended, tags merged, newest date).
2. Entries go to the database in batches, each in one transaction: one query
   finds the bookmarks the person already has, new ones are inserted in bulk
   (``bulk_create``; on PostgreSQL a COPY, ``services.pg_copy``), known ones
   are merged (``services.merge_resave``) and those that changed are updated.
3. Missing tags are created (ignoring ones another request made meanwhile)
   and the bookmark-tag rows are inserted in bulk.

Imported bookmarks come with their titles from the file and are not queued
for fetching (a big import must not flood the fetch queue); ones without a
title show their address until edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookmarks.interchange.entries import BookmarkEntry, tag_name
from bookmarks.models import TAG_MAX_LENGTH, Bookmark, Tag
from bookmarks.normalize import InvalidURL, normalize_url, url_hash
from bookmarks.search import sqlite_index
from bookmarks.services import pg_copy
from bookmarks.services.changes import mark_changed
from bookmarks.services.saving import NOTE_MAX_LENGTH, clean_text, merge_resave
from bookmarks.services.tagging import max_tags

# Rows per transaction; also the length of the id lists in one IN (...), and
# SQLite takes at most 32,766 parameters in a statement.
BATCH_SIZE = 10_000
# Fields set per new row, in the order ``_new_values`` gives them; the others take the model's defaults.
NEW_FIELDS = (
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
    "status",
)
MERGED_FIELDS = ["title", "note", "added_at", "updated_at"]
# Reasons and warnings kept for the person (a file of a million bad lines must not fill the memory).
KEPT_MESSAGES = 1000


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    # Entries not imported; the first KEPT_MESSAGES of them with their reasons, as (url, reason).
    skipped_count: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (url, message) for entries imported with a repair (an unreadable date, tags over the cap), the first ones.
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, url: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < KEPT_MESSAGES:
            self.skipped.append((url[:500], reason))

    def warn(self, url: str, message: str) -> None:
        if len(self.warnings) < KEPT_MESSAGES:
            self.warnings.append((url[:500], message))


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
    total: int | None = None,
) -> ImportResult:
    """Save many bookmarks at once, merging like ``save_url``; ``progress(done, total)`` after each batch.

    ``entries`` are read as they come, ``BATCH_SIZE`` bookmarks at a time, so
    a file parsed as it is read never sits in memory whole. ``done`` counts
    the entries read (skipped ones too) out of ``total`` (``len(entries)`` for
    a list). The same URL twice in one batch is merged in memory; in two
    batches, the second merges into the first's bookmark as a re-save would.
    New bookmarks without a title are left ``pending`` for the beat sweep to
    fetch (a batch a minute) only when ``fetch_missing_titles`` is set.
    """
    now = timezone.now()
    result = ImportResult()
    if total is None and isinstance(entries, list):
        total = len(entries)
    if progress:
        progress(0, total or 0)
    if connection.vendor == "sqlite":
        # The per-owner unique index on url_hash takes inserts at random places;
        # with SQLite's default 2 MB page cache a big import spends its time
        # re-reading index pages. 64 MB for this connection keeps them in memory.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
    tag_ids = _tag_ids(user)
    done = 0
    for chunk, read in _batches(entries, folders_as_tags, now, result):
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
        done += read
        if chunk:
            mark_changed([user.pk])
        if progress:
            progress(done, max(total or 0, done))
    return result


def _tag_ids(user: AbstractBaseUser) -> dict[str, int]:
    """The user's tag ids by lower-case name, lowered here as the rows' names are:
    SQLite's lower() leaves letters outside ASCII as they are (``École``)."""
    return {name.lower(): pk for pk, name in Tag.objects.filter(owner=user).values_list("id", "name")}


def _batches(
    entries: Iterable[BookmarkEntry], folders_as_tags: bool, now: datetime, result: ImportResult
) -> Iterator[tuple[list[_Row], int]]:
    """Rows of up to ``BATCH_SIZE`` distinct URLs, each with the number of entries read for it."""
    rows: dict[str, _Row] = {}
    read = 0
    for entry in entries:
        read += 1
        row = _row(entry, folders_as_tags, now, result)
        if row is None:
            continue
        known = rows.get(row.digest)
        if known is None:
            rows[row.digest] = row
        else:
            _merge_rows(known, row)
        if len(rows) == BATCH_SIZE:
            yield list(rows.values()), read
            rows, read = {}, 0
    if rows or read:
        yield list(rows.values()), read


def _row(entry: BookmarkEntry, folders_as_tags: bool, now: datetime, result: ImportResult) -> _Row | None:
    """The entry checked and cleaned; None (and a reason in ``result``) when it cannot be imported."""
    try:
        key = normalize_url(entry.url)
    except InvalidURL as exc:
        result.skip(entry.url, str(exc))
        return None
    names = list(entry.tags)
    if folders_as_tags:
        names.extend(entry.folders)
    tags: dict[str, str] = {}
    for raw in names:
        name = tag_name(clean_text(raw))[:TAG_MAX_LENGTH]
        if name:
            tags.setdefault(name.lower(), name)
    if len(tags) > max_tags():
        result.warn(entry.url, f"kept the first {max_tags()} of its {len(tags)} tags")
        tags = dict(list(tags.items())[: max_tags()])
    created = entry.created_at or now
    for message in entry.warnings:
        result.warn(entry.url, message)
    return _Row(
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


def _merge_rows(known: _Row, row: _Row) -> None:
    """The same URL twice in one file: as if the second line re-saved the first."""
    merge_resave(known, row.title, row.note, row.added_at)
    for lower, name in row.tags.items():
        if len(known.tags) < max_tags():
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
        changed: list[Bookmark] = []
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
                bookmark.updated_at = now
                changed.append(bookmark)
        values = [_new_values(row, now, fetch_missing_titles) for row in new]
        if connection.vendor == "postgresql":
            template = Bookmark(owner=user, source=Bookmark.Source.IMPORT)
            ids = pg_copy.insert_new(template, NEW_FIELDS, values)
        else:
            ids = _create_bookmarks(user, values)
        _write_merged(changed)
        _link_tags(user, list(zip(ids, new, strict=True)), known, tag_ids)
    return len(new), len(known)


def _new_values(row: _Row, now: datetime, fetch_missing_titles: bool) -> tuple:
    """The values of ``NEW_FIELDS`` for a new bookmark."""
    # Left for the beat sweep, which queues at most a batch a minute:
    # titles arrive over time and the fetch queue is never flooded.
    pending = fetch_missing_titles and not row.title
    return (
        row.url,
        row.key,
        row.digest,
        row.title,
        row.note,
        row.created_at,
        row.added_at,
        row.modified_at or now,  # the file's LAST_MODIFIED when it has one
        row.is_private,
        row.unread,
        Bookmark.Status.PENDING if pending else Bookmark.Status.OK,
    )


def _create_bookmarks(user: AbstractBaseUser, values: list[tuple]) -> list[int]:
    """``bulk_create`` the new bookmarks (indexed for search in one go); returns their ids, in order."""
    if not values:
        return []
    # owner_id, not owner: the relation's descriptor is a noticeable cost at this count.
    bookmarks = [
        Bookmark(owner_id=user.pk, source=Bookmark.Source.IMPORT, **dict(zip(NEW_FIELDS, row, strict=True)))
        for row in values
    ]
    with sqlite_index.bulk_indexing() as index_rows:
        Bookmark.objects.bulk_create(bookmarks)
        ids = [bookmark.pk for bookmark in bookmarks]
        index_rows(ids)
    return ids


def _write_merged(bookmarks: list[Bookmark]) -> None:
    """Write the merged fields of bookmarks that exist (and are locked), ``updated_at`` included.

    An upsert on the per-owner URL key, which always finds the row: ``bulk_update``
    writes a CASE per field and row and costs several times as much.
    """
    Bookmark.objects.bulk_create(
        bookmarks, update_conflicts=True, unique_fields=["owner", "url_hash"], update_fields=MERGED_FIELDS
    )


def _link_tags(
    user: AbstractBaseUser, new: list[tuple[int, _Row]], known: list[tuple[int, _Row]], tag_ids: dict[str, int]
) -> None:
    """Create the tags the rows name that the user lacks, then the bookmark-tag rows."""
    _add_missing_tags(user, new + known, tag_ids)
    through = Bookmark.tags.through
    links = [(pk, tag_ids[lower]) for pk, row in new for lower in row.tags]
    if connection.vendor == "postgresql":
        pg_copy.copy_rows(through, ["bookmark", "tag"], links)
    else:
        through.objects.bulk_create([through(bookmark_id=pk, tag_id=tag_id) for pk, tag_id in links])
    # Merged bookmarks may have some of their tags already: only the others are written.
    # and only while a bookmark holds fewer tags than the cap.
    if any(row.tags for _pk, row in known):
        held: dict[int, set[int]] = {}
        for pk, tag_id in through.objects.filter(bookmark_id__in=[pk for pk, _row in known]).values_list(
            "bookmark_id", "tag_id"
        ):
            held.setdefault(pk, set()).add(tag_id)
        missing = []
        for pk, row in known:
            tags = held.setdefault(pk, set())
            for tag_id in (tag_ids[lower] for lower in row.tags):
                if tag_id not in tags and len(tags) < max_tags():
                    tags.add(tag_id)
                    missing.append((pk, tag_id))
        through.objects.bulk_create(
            [through(bookmark_id=pk, tag_id=tag_id) for pk, tag_id in sorted(missing)], ignore_conflicts=True
        )


def _add_missing_tags(user: AbstractBaseUser, pairs: list[tuple[int, _Row]], tag_ids: dict[str, int]) -> None:
    wanted: dict[str, str] = {}
    for _pk, row in pairs:
        for lower, name in row.tags.items():
            if lower not in tag_ids:
                wanted.setdefault(lower, name)
    if wanted:
        # ignore_conflicts: another request may create one of them meanwhile; its tag is used.
        Tag.objects.bulk_create([Tag(owner=user, name=name) for name in wanted.values()], ignore_conflicts=True)
        tag_ids.update(_tag_ids(user))

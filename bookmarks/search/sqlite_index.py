"""SQLite: the FTS5 search table (migration 0003) filled for many new bookmarks at once.

Triggers keep the table in step with ``bookmarks_bookmark``, one indexing
statement for every row written, which is most of the cost of a big import.
``bulk_indexing`` lifts the insert trigger for one batch of new rows and
indexes them with one statement instead; the trigger is back before the
batch commits, so no other connection ever writes without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

from bookmarks.models import Bookmark
from bookmarks.search import FTS_TABLE, SEARCH_FIELDS

INSERT_TRIGGER = "bookmarks_bookmark_fts_ai"  # bookmarks/migrations/0003_search_indexes.py
# Ids per statement: SQLite takes at most 32,766 parameters.
IDS_PER_STATEMENT = 10_000


@contextmanager
def bulk_indexing() -> Iterator[Callable[[list[int]], None]]:
    """Inside, new bookmarks are not indexed as they are inserted: pass their ids to the function yielded.

    Only inside ``transaction.atomic()``: the trigger is dropped and re-created
    in the caller's transaction, so an error rolls both back with the rows.
    Elsewhere than SQLite nothing changes and the function does nothing.
    """
    if connection.vendor != "sqlite":
        yield _index_nothing
        return
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_indexing() needs a transaction: the trigger must never be missing after a commit.")
    trigger_sql = _drop_insert_trigger()
    yield _index_rows if trigger_sql else _index_nothing
    if trigger_sql:
        with connection.cursor() as cursor:
            cursor.execute(trigger_sql)


def _drop_insert_trigger() -> str | None:
    """Drop the insert trigger and return the statement that made it (None when there is none)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [INSERT_TRIGGER])
        found = cursor.fetchone()
        if found:
            cursor.execute(f"DROP TRIGGER {INSERT_TRIGGER}")
    return found[0] if found else None


def _index_rows(ids: list[int]) -> None:
    """What the insert trigger would have done for these bookmarks, in one statement per few thousand."""
    columns = ", ".join(SEARCH_FIELDS)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            batch = ids[start : start + IDS_PER_STATEMENT]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, {columns}) "  # noqa: S608 (names only; the ids are parameters)
                f"SELECT id, {columns} FROM {Bookmark._meta.db_table} WHERE id IN ({marks})",
                batch,
            )


def _index_nothing(ids: list[int]) -> None:
    """Elsewhere the database keeps its indexes itself."""

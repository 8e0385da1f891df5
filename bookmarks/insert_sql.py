"""The insert of new bookmarks, as ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements built once.

``bookmarks.services.save_url`` inserts first, since a new URL is the common
case. Through the ORM a URL the owner has already saved failed the unique
key: that needed a savepoint around the insert (two more statements on every
save), and PostgreSQL wrote an ERROR with the whole statement, URL included,
to its server log on every re-save. Here the unique key's conflict is
answered by no row instead, so a known URL costs no error and no savepoint;
and the statement skips ``Model.save()``'s machinery, which was most of a
chat save's Python time in the gateway; the gateway inserts all the links
of the messages waiting in one go (docs/PERFORMANCE.md, ingest).

``ON CONFLICT`` and ``RETURNING``: PostgreSQL, and SQLite from 3.35 (system
check ``bookmarks.E001``).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from bookmarks.models import Bookmark
from bookmarks.pg_arrays import array_of, parameters


def _fields() -> list:
    return [field for field in Bookmark._meta.concrete_fields if not field.primary_key]


@lru_cache(maxsize=64)
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields())
    if vendor == "postgresql":
        arrays = ", ".join(array_of(field) for field in _fields())  # bookmarks.pg_arrays says why
        source = f"SELECT * FROM UNNEST({arrays})"  # noqa: S608 (types only)
    else:
        row = "(" + ", ".join(["%s"] * len(_fields())) + ")"
        source = f"VALUES {', '.join([row] * rows)}"
    unique = ", ".join(quote(Bookmark._meta.get_field(name).column) for name in ("owner", "url_hash"))
    returning = ", ".join(quote(name) for name in ("id", "owner_id", "url_hash"))
    return (
        f"INSERT INTO {quote(Bookmark._meta.db_table)} ({columns}) {source} "  # noqa: S608 (names only)
        f"ON CONFLICT ({unique}) DO NOTHING RETURNING {returning}"
    )


# Rows per statement: well under SQLite's 32,766 parameters, and few statement shapes to cache.
CHUNK = 50


def insert_new(bookmarks: list[Bookmark]) -> list[Bookmark]:
    """Insert the unsaved ``bookmarks`` whose owner does not have their URL yet; those inserted, pks set.

    No two of them may share an owner and ``url_hash``.
    """
    fields = _fields()
    inserted = []
    for start in range(0, len(bookmarks), CHUNK):
        chunk = bookmarks[start : start + CHUNK]
        values = [
            [field.get_db_prep_save(field.pre_save(bookmark, True), connection) for field in fields]
            for bookmark in chunk
        ]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection.vendor, len(chunk)), parameters(values))
            rows = cursor.fetchall()
        by_key = {(bookmark.owner_id, bookmark.url_hash): bookmark for bookmark in chunk}
        for pk, owner_id, digest in rows:
            bookmark = by_key[(owner_id, digest)]
            bookmark.pk = pk
            bookmark._state.adding = False
            bookmark._state.db = connection.alias
            inserted.append(bookmark)
    return inserted

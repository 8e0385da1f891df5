"""The statements of a page fetch, as single SQL statements built once.

Every fetch reads its row (``bookmarks.services.begin_fetch``) and writes its
result, counting the attempt (``record_metadata``); a task delivered again
after its worker died first counts the lost attempt (``claim_pending``).
Through the ORM those cost more in Python than
in the database: building the filter and compiling the UPDATE was about 85%
of their time in a profile on SQLite, the statement itself 12%, and they ran
on every one of the hundreds of fetches a second a worker does
(docs/PERFORMANCE.md, page metadata throughput). Here each statement's text
is built once per shape from the model's own table and column names, values
are adapted by the model fields (``get_db_prep_save``) exactly as the ORM
does, and the claim returns the claimed row in the same statement
(``UPDATE ... RETURNING``: PostgreSQL, and SQLite from 3.35; the system
check ``bookmarks.E001`` refuses an older SQLite library at start).

Only ``bookmarks.services`` calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from django.db import connection

from bookmarks.models import Bookmark


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _prep(name: str, value: object) -> object:
    return Bookmark._meta.get_field(name).get_db_prep_save(value, connection)


def _columns() -> str:
    return ", ".join(_quote(field.column) for field in Bookmark._meta.concrete_fields)


@lru_cache(maxsize=4)
def _read_sql(vendor: str) -> str:
    return (
        f"SELECT {_columns()} FROM {_quote(Bookmark._meta.db_table)} "  # noqa: S608 (names only)
        f"WHERE {_quote('id')} = %s AND {_quote('status')} = %s"
    )


def read_pending(bookmark_id: int) -> Bookmark | None:
    """The bookmark if it is pending; None when gone or not pending. A read: no write lock taken."""
    found = list(Bookmark.objects.raw(_read_sql(connection.vendor), [bookmark_id, Bookmark.Status.PENDING.value]))
    return found[0] if found else None


@lru_cache(maxsize=4)
def _claim_sql(vendor: str) -> str:
    return (
        f"UPDATE {_quote(Bookmark._meta.db_table)} "  # noqa: S608 (names only)
        f"SET {_quote('fetch_attempts')} = {_quote('fetch_attempts')} + 1, {_quote('updated_at')} = %s "
        f"WHERE {_quote('id')} = %s AND {_quote('status')} = %s RETURNING {_columns()}"
    )


def claim_pending(bookmark_id: int, now: datetime) -> Bookmark | None:
    """Count one more attempt on a pending bookmark and return it; None when gone or not pending."""
    params = [_prep("updated_at", now), bookmark_id, Bookmark.Status.PENDING.value]
    claimed = list(Bookmark.objects.raw(_claim_sql(connection.vendor), params))
    return claimed[0] if claimed else None


@lru_cache(maxsize=32)
def _result_sql(vendor: str, names: tuple[str, ...], same_url: bool) -> str:
    attempts = _quote("fetch_attempts")
    values = [f"{_quote(Bookmark._meta.get_field(name).column)} = %s" for name in names]
    columns = ", ".join([f"{attempts} = {attempts} + 1", *values])
    where = f"{_quote('id')} = %s AND {_quote('status')} = %s"
    if same_url:
        where += f" AND {_quote('url')} = %s"
    return f"UPDATE {_quote(Bookmark._meta.db_table)} SET {columns} WHERE {where}"  # noqa: S608 (names only)


def update_pending(bookmark_id: int, fields: Mapping[str, object], url: str | None = None) -> bool:
    """Set ``fields`` and count an attempt if the bookmark is still pending (and still has ``url``, if given)."""
    names = tuple(fields)
    params = [_prep(name, fields[name]) for name in names]
    params += [bookmark_id, Bookmark.Status.PENDING.value]
    if url is not None:
        params.append(url)
    with connection.cursor() as cursor:
        cursor.execute(_result_sql(connection.vendor, names, url is not None), params)
        return cursor.rowcount == 1

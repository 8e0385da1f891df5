"""The statements of a page fetch, as single SQL statements built once.

Every fetch reads its row (``bookmarks.services.begin_fetch``) and writes its
result, counting the attempt (``record_metadata``: the results of fetches
ending together in one statement); a task delivered again
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

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from django.db import connection

from bookmarks import pg_arrays
from bookmarks.models import Bookmark
from bookmarks.row_check import row_check

CHUNK = 64  # ids per read, results per UPDATE: a gathered group's largest


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _prep(name: str, value: object) -> object:
    return Bookmark._meta.get_field(name).get_db_prep_save(value, connection)


def _columns() -> str:
    return ", ".join(_quote(field.column) for field in Bookmark._meta.concrete_fields)


@lru_cache(maxsize=CHUNK + 1)
def _read_sql(vendor: str, rows: int) -> str:
    """The bookmarks with the ids given: on PostgreSQL one array of ids (one text for any number),
    elsewhere a placeholder each. By id alone: the status is checked in Python (``bookmarks.row_check`` says why)."""
    if vendor == "postgresql":
        ids = f"= ANY({pg_arrays.array_of(Bookmark._meta.pk)})"
    else:
        ids = "IN (" + ", ".join(["%s"] * rows) + ")"
    return f"SELECT {_columns()} FROM {_quote(Bookmark._meta.db_table)} WHERE {_quote('id')} {ids}"  # noqa: S608


def read_pending(bookmark_ids: Sequence[int]) -> list[Bookmark | None]:
    """For each id, its bookmark if it is pending; None when gone or not pending. A read: no write lock taken.

    One statement for up to ``CHUNK`` ids: the reads of fetches starting
    together are made together (``services.begin_fetch``).
    """
    bookmark_ids = [int(pk) for pk in bookmark_ids]
    found: dict[int, Bookmark] = {}
    postgresql = connection.vendor == "postgresql"
    for start in range(0, len(bookmark_ids), CHUNK):
        chunk = bookmark_ids[start : start + CHUNK]
        sql = _read_sql(connection.vendor, 0 if postgresql else len(chunk))
        for bookmark in _bookmarks(sql, pg_arrays.parameters([[pk] for pk in chunk])):
            found[bookmark.pk] = bookmark
    answers: list[Bookmark | None] = []
    given: set[int] = set()
    for pk in bookmark_ids:
        bookmark = found.get(pk)
        if bookmark is None or bookmark.status != Bookmark.Status.PENDING:
            answers.append(None)
            continue
        answers.append(copy.copy(bookmark) if pk in given else bookmark)  # each task changes its own
        given.add(pk)
    return answers


@lru_cache(maxsize=4)
def _converters(vendor: str) -> list[tuple[int, list, object]]:
    """What the ORM applies to each column of a bookmark read: the backend's (SQLite's datetimes, booleans)
    and the fields' own, by position."""
    table = Bookmark._meta.db_table
    found = []
    for position, field in enumerate(Bookmark._meta.concrete_fields):
        column = field.get_col(table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((position, converters, column))
    return found


def _bookmarks(sql: str, params: list[object]) -> list[Bookmark]:
    """The bookmarks a statement selecting ``_columns()`` returns, as the ORM builds them.

    ``Bookmark.objects.raw`` did the same with two thirds of its time spent
    matching columns to fields on every call (a profile of the worker in the
    ingest benchmark: 9% of its time with the GIL, for one row by id).
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters = _converters(connection.vendor)
    found = []
    for row in rows:
        values = list(row)
        for position, functions, column in converters:
            for function in functions:
                values[position] = function(values[position], column, connection)
        found.append(Bookmark.from_db(connection.alias, None, values))
    return found


@lru_cache(maxsize=4)
def _claim_sql(vendor: str) -> str:
    status = f"{_quote('status')} = %s"
    return (
        f"UPDATE {_quote(Bookmark._meta.db_table)} "  # noqa: S608 (names only)
        f"SET {_quote('fetch_attempts')} = {_quote('fetch_attempts')} + 1, {_quote('updated_at')} = %s "
        f"WHERE {_quote('id')} = %s AND {row_check(status)} RETURNING {_columns()}"
    )


def claim_pending(bookmark_id: int, now: datetime) -> Bookmark | None:
    """Count one more attempt on a pending bookmark and return it; None when gone or not pending."""
    params = [_prep("updated_at", now), bookmark_id, Bookmark.Status.PENDING.value]
    claimed = _bookmarks(_claim_sql(connection.vendor), params)
    return claimed[0] if claimed else None


@lru_cache(maxsize=32)
def _results_sql(vendor: str, names: tuple[str, ...], same_url: bool, rows: int) -> str:
    """One UPDATE for ``rows`` results of one shape: the values come as a derived table joined on the id.

    On PostgreSQL the derived table is one typed array per column
    (``bookmarks.pg_arrays``), the same text for any ``rows``; elsewhere a
    row of placeholders per result.
    """
    table = _quote(Bookmark._meta.db_table)
    attempts = _quote("fetch_attempts")
    given = ["id", *names, *(["url"] if same_url else [])]
    if vendor == "postgresql":
        arrays = ", ".join(pg_arrays.array_of(Bookmark._meta.get_field(name)) for name in given)
        aliases = ", ".join(_quote(f"v_{name}") for name in given)
        source = f"UNNEST({arrays}) AS v({aliases})"
    else:
        values = ", ".join(["%s"] * len(given))
        first = ", ".join(f"%s AS {_quote(f'v_{name}')}" for name in given)
        source = "(" + " UNION ALL ".join([f"SELECT {first}", *[f"SELECT {values}"] * (rows - 1)]) + ") AS v"
    assigned = [f"{_quote(Bookmark._meta.get_field(name).column)} = v.{_quote(f'v_{name}')}" for name in names]
    columns = ", ".join([f"{attempts} = {attempts} + 1", *assigned])
    status = f"{table}.{_quote('status')} = %s"
    where = f"{table}.{_quote('id')} = v.{_quote('v_id')} AND {row_check(status)}"
    if same_url:
        where += f" AND {table}.{_quote('url')} = v.{_quote('v_url')}"
    return (
        f"UPDATE {table} SET {columns} FROM {source} "  # noqa: S608 (names only)
        f"WHERE {where} RETURNING {table}.{_quote('id')}"
    )


def update_pending_many(results: Sequence[tuple[int, Mapping[str, object], str | None]]) -> set[int]:
    """Write fetch results, ``(bookmark id, fields, url or None)`` each: set ``fields`` and count an attempt
    on each bookmark still pending (and still at ``url``, if given). The ids written.

    Results of one shape (the same fields, a url or not) go in one statement.
    A bookmark given twice is written by the first only: the second, run after
    it, would have found it no longer pending.
    """
    shapes: dict[tuple[tuple[str, ...], bool], list[tuple[int, Mapping[str, object], str | None]]] = {}
    seen: set[int] = set()
    for result in results:
        if result[0] not in seen:
            seen.add(result[0])
            shapes.setdefault((tuple(result[1]), result[2] is not None), []).append(result)
    written: set[int] = set()
    pending = Bookmark.Status.PENDING.value
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for (names, same_url), rows in shapes.items():
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                values = [
                    [bookmark_id, *(_prep(name, fields[name]) for name in names), *([url] if same_url else [])]
                    for bookmark_id, fields, url in chunk
                ]
                rows_in_text = 0 if postgresql else len(chunk)  # PostgreSQL: one text for any number of rows
                sql = _results_sql(connection.vendor, names, same_url, rows_in_text)
                cursor.execute(sql, [*pg_arrays.parameters(values), pending])
                written.update(row[0] for row in cursor.fetchall())
    return written

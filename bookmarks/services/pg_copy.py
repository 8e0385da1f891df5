"""PostgreSQL: new rows for a bulk import streamed with ``COPY`` through psycopg's ``copy()``.

The ORM's INSERT sends every value as a bind parameter, which PostgreSQL is
slow to parse and bind for tens of thousands of rows; COPY streams them.
COPY cannot say which ids it made, so they are taken from the table's
sequence first. Used only by ``services.importing``, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


def insert_new(template: Model, names: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """Insert one row of ``template``'s model per item of ``rows``; returns their new ids, in order.

    Each row gives the values of the fields ``names``; every other field takes
    its value from ``template`` (an unsaved instance), so model defaults apply.
    """
    meta = template._meta
    ids = _reserve_ids(meta.db_table, len(rows))
    fields = [field for field in meta.concrete_fields if not field.primary_key and field.name not in names]
    constant = [field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in fields]
    copy_rows(
        type(template),
        [meta.pk.name, *names, *(field.name for field in fields)],
        ([pk, *row, *constant] for pk, row in zip(ids, rows, strict=True)),
    )
    return ids


def copy_rows(model: type[Model], names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY ``rows`` (values of the fields ``names``, as psycopg adapts them) into ``model``'s table."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    connection.ensure_connection()
    # psycopg's own cursor, so its errors are turned into Django's here (an
    # IntegrityError from a URL saved meanwhile makes the importer try again).
    with (
        connection.wrap_database_errors,
        connection.connection.cursor() as raw,
        raw.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _reserve_ids(table: str, count: int) -> list[int]:
    """``count`` values of the table's id sequence: the ids COPY will write."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [pk for (pk,) in cursor.fetchall()]

"""Many rows as one array per column: how the bookmark statements pass a set of rows on PostgreSQL.

With a placeholder per value, a statement's text changes with its number of
rows, and psycopg parses every such text again on each call (it caches only
short statements with few parameters): in the chat ingest profiles that was
15% of the gateway's time with the GIL for the batch insert and 7% of a
worker's for the results' update (docs/PERFORMANCE.md, ingest). With
``UNNEST`` of one array per column, as Django's ``bulk_create`` does there,
the text is the same for any number of rows; psycopg converts it once.

Each column goes as the text of a PostgreSQL array (``{"a","b",NULL}``),
one string, cast by the placeholder: psycopg's adaptation of a Python list
dispatches on every element's type and escapes each one in Python, 9% of the
gateway's time with the GIL in the ingest profile; the literal is built
here with a few string methods, 4.6 times faster for 50 rows of six columns
(docs/PERFORMANCE.md, ingest). A column holding a value of any other type
than those below goes as a list, adapted by psycopg.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.db import connection
from django.db.models import Field


def array_of(field: Field) -> str:
    """A placeholder for a list of ``field``'s values: ``(%s)::type[]``.

    The type drops its length (``varchar``, not ``varchar(500)``): a value too
    long for its column then fails the statement instead of being cut by the
    cast.
    """
    return f"(%s)::{field.db_type(connection).split('(')[0]}[]"


def parameters(rows: Iterable[Sequence[object]]) -> list[object]:
    """The parameters for ``rows`` of values: on PostgreSQL one array per column, for ``array_of``
    placeholders; elsewhere every value in row order, for a row of placeholders each."""
    if connection.vendor == "postgresql":
        return [literal(column) for column in zip(*rows, strict=True)]
    return [value for row in rows for value in row]


def literal(values: Sequence[object]) -> str | list[object]:
    """``values`` as the text of a PostgreSQL array, each element quoted, None as NULL;
    as a list (for psycopg) if one is of a type not known here."""
    elements = []
    for value in values:
        if value is None:
            elements.append("NULL")
        elif isinstance(value, str):
            elements.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif isinstance(value, int):  # int(): a subclass's str() may be its name (bool: "1" and "0", read as such)
            elements.append(f'"{int(value)}"')
        elif isinstance(value, date):  # and datetime: ISO, with the offset if it has one
            elements.append(f'"{value}"')
        else:
            return list(values)
    return "{" + ",".join(elements) + "}"

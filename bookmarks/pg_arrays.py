"""Many rows as one array per column: how the bookmark statements pass a set of rows on PostgreSQL.

With a placeholder per value, a statement's text changes with its number of
rows, and psycopg parses every such text again on each call (it caches only
short statements with few parameters): in the chat ingest profiles that was
15% of the gateway's time with the GIL for the batch insert and 7% of a
worker's for the results' update (docs/PERFORMANCE.md, ingest). With
``UNNEST`` of one array per column, as Django's ``bulk_create`` does there,
the text is the same for any number of rows; psycopg converts it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    """The parameters for ``rows`` of values: on PostgreSQL one list per column, for ``array_of``
    placeholders; elsewhere every value in row order, for a row of placeholders each."""
    if connection.vendor == "postgresql":
        return [list(column) for column in zip(*rows, strict=True)]
    return [value for row in rows for value in row]

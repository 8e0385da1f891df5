"""A condition on rows a statement finds by primary key, written so that no index can find them instead.

The fetch path and the chat outbox look rows up by id and change them only if
they are still in the state they expect: ``WHERE id = 42 AND status =
'pending'``, ``WHERE id IN (...) AND sent_at IS NULL``. PostgreSQL's planner
may serve the second condition from its own index (``bookmark_status_updated``,
``chatsave_unsent``) and filter the ids from what that index returns. It does
so when its statistics say the state is rare, which they say about a burst of
new rows until autovacuum analyzes the table again (a minute or more later):
every pending bookmark or unsent chat save was then read for each one looked
up. In the chat ingest benchmark (docs/PERFORMANCE.md) that was most of
PostgreSQL's time, and it grows with the burst.

``(condition) IS TRUE`` keeps what the condition means in a WHERE clause (a
NULL still fails) but is no index condition, so the primary key is the only
way in. That holds for a comparison or an ``IS NULL`` test; a bare boolean
column wrapped so could still be served by an index on it. SQLite looks rows
up by rowid either way; it gets the same text.
"""

from __future__ import annotations


def row_check(condition: str) -> str:
    """``condition`` as a check on rows found another way (by primary key), never as a way to find them."""
    return f"({condition}) IS TRUE"

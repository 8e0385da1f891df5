"""PostgreSQL: the two-character index (0007) keeps only pieces that hold a non-ASCII character.

0007 indexed every two-character piece of every bookmark (about 85 per row,
URLs included), which made a 100,000-bookmark import spend two thirds of its
time in that index (docs/PERFORMANCE.md, "Import and export"). The terms it
exists for are Chinese words such as 收藏 or B站; a two-character Latin term
(``qu``, ``go``) matches a large share of any collection and is answered by
the scan, which stops early once a page is full. So
``favsite_nonascii_bigrams(text)`` returns the distinct upper-cased
two-character pieces of a text that hold at least one non-ASCII character,
and an all-ASCII text costs one length comparison.

Search asks ``favsite_nonascii_bigrams(document) @> favsite_nonascii_bigrams(term)``
and rechecks each field with ``icontains`` (``UPPER(field) LIKE UPPER(term)``),
so the result never depends on the index: whenever a field holds the term,
the upper-cased term is a substring of the upper-cased document, and each of
its pieces is one of the document's. Upper case, not lower, for that reason:
it is what the recheck compares. A term whose pieces are all ASCII gives an
empty array, which every row contains: slower, never wrong.

How: inside ASCII runs only the first and last characters can border a
non-ASCII one, so each run of three or more ASCII characters is squeezed to
those two before the pieces are cut (a URL costs two characters, not sixty);
a piece is kept when it is longer than two bytes (UTF-8). ``MATERIALIZED``
computes the squeezed text once per call, not once per piece.
"""

import importlib

from django.db import migrations

SEARCH_FIELDS = ("title", "page_title", "url", "note", "description")
PG_DOCUMENT = " || E'\\n' || ".join(f'"{field}"' for field in SEARCH_FIELDS)

FUNCTION = r"""
CREATE OR REPLACE FUNCTION favsite_nonascii_bigrams(doc text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT CASE WHEN octet_length(doc) = length(doc) THEN '{}'::text[] ELSE (
        WITH squeezed AS MATERIALIZED (
            SELECT regexp_replace(upper(doc), '([\x01-\x7f])[\x01-\x7f]+([\x01-\x7f])', '\1\2', 'g') AS text
        )
        SELECT coalesce(array_agg(DISTINCT piece), '{}')
        FROM squeezed, generate_series(1, length(squeezed.text) - 1) AS i,
             LATERAL substr(squeezed.text, i, 2) AS piece
        WHERE octet_length(piece) > 2
    ) END
$$
"""


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    # Built beside the old index without locking writes out (the gateway and
    # the workers keep saving during an upgrade), then swapped in. A build
    # interrupted halfway leaves an invalid index of that name: dropped first.
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS bookmark_search_bigrams_new")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY bookmark_search_bigrams_new ON bookmarks_bookmark "
        f"USING gin (favsite_nonascii_bigrams({PG_DOCUMENT}))"
    )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS bookmark_search_bigrams")
    schema_editor.execute("ALTER INDEX bookmark_search_bigrams_new RENAME TO bookmark_search_bigrams")
    schema_editor.execute("DROP FUNCTION IF EXISTS favsite_bigrams(text)")
    # Statistics for the new expression, so the planner knows how common a piece is.
    schema_editor.execute("ANALYZE bookmarks_bookmark")


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS bookmark_search_bigrams")
    schema_editor.execute("DROP FUNCTION IF EXISTS favsite_nonascii_bigrams(text)")
    importlib.import_module("bookmarks.migrations.0007_search_bigrams").forwards(apps, schema_editor)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False
    dependencies = [("bookmarks", "0007_search_bigrams")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

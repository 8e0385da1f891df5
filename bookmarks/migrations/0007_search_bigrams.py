"""PostgreSQL: a GIN index over each bookmark's two-character pieces, for 2-character terms.

Trigrams cannot answer a term such as 收藏 (two characters; Chinese has no
spaces), which made it a scan of every bookmark (see docs/PERFORMANCE.md).
``favsite_bigrams(text)`` returns the distinct lower-cased 2-character pieces
of a text; the index covers the same concatenated document as the trigram
index (0003), and bookmarks/search.py asks it with ``@> ARRAY[lower(term)]``. The high
COST keeps the planner from computing the pieces row by row while walking
another index: they are only worth having from the index.
The database keeps it up to date. SQLite needs nothing: its scan is cheap.
"""

from django.db import migrations

SEARCH_FIELDS = ("title", "page_title", "url", "note", "description")
PG_DOCUMENT = " || E'\\n' || ".join(f'"{field}"' for field in SEARCH_FIELDS)

FUNCTION = """
CREATE OR REPLACE FUNCTION favsite_bigrams(doc text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(doc), i, 2)), '{}')
    FROM generate_series(1, length(doc) - 1) AS i
$$
"""


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS bookmark_search_bigrams ON bookmarks_bookmark "
            f"USING gin (favsite_bigrams({PG_DOCUMENT}))"
        )


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS bookmark_search_bigrams")
        schema_editor.execute("DROP FUNCTION IF EXISTS favsite_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0006_import_job_fetch_titles")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

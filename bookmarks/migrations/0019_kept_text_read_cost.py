"""PostgreSQL: ``favsite_kept_text_read(text)``, true, priced like reading a kept text.

The planner prices a sequential scan of ``bookmarks_pagetext`` by its main
table (about 100 pages for 10,000 texts: the texts themselves are in TOAST)
and one cheap operator call per row, so for a term with many trigrams (a
phrase) it preferred scanning every text to the trigram index: 4 s at
10,000 texts, each one read from TOAST, decompressed and lower-cased. Reading
a 12 KB text costs 0.1-0.4 ms, several hundred times the planner's operator
cost. A search adds this function beside its ``ILIKE`` on the text: at
``COST 1000`` a scan of every row costs what it really does, and the index
is chosen (77 ms for the same phrase). It never reads its argument and is
called only for the rows the index and recheck keep (plpgsql: not inlined,
so the cost stays).
"""

from django.db import migrations

CREATE = (
    "CREATE OR REPLACE FUNCTION favsite_kept_text_read(text) RETURNS boolean "
    "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS 'BEGIN RETURN true; END'"
)


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS favsite_kept_text_read(text)")


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0018_import_limits")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

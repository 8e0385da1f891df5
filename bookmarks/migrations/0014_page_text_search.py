"""Search indexes over the kept page text (``bookmarks_pagetext.text``), kept in sync by the database.

SQLite: an FTS5 trigram table with external content and triggers, like the
bookmark one (0003); its rowid is the bookmark's id (``bookmark_id`` is the
text table's integer primary key). PostgreSQL: a pg_trgm GIN index on the
text for terms of three or more characters, and a GIN index of its
non-ASCII two-character pieces (``favsite_nonascii_bigrams``, 0008/0010) for
two-character Chinese terms such as 榫卯.

Only ``bookmarks_pagetext`` carries triggers here: the bookmark table is not
altered, so its own triggers (0003) stay.
"""

from django.db import migrations

FTS = "bookmarks_pagetext_fts"
TABLE = "bookmarks_pagetext"


def forwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS pagetext_search_trgm ON {TABLE} USING gin (text gin_trgm_ops)")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS pagetext_search_bigrams ON {TABLE} USING gin (favsite_nonascii_bigrams(text))"
        )
    elif vendor == "sqlite":
        statements = [
            f"DROP TABLE IF EXISTS {FTS}",
            f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='{TABLE}', content_rowid='bookmark_id', "
            "tokenize='trigram')",
            f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {TABLE} BEGIN
                INSERT INTO {FTS}(rowid, text) VALUES (new.bookmark_id, new.text); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {TABLE} BEGIN
                INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.bookmark_id, old.text); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF text ON {TABLE} BEGIN
                INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.bookmark_id, old.text);
                INSERT INTO {FTS}(rowid, text) VALUES (new.bookmark_id, new.text); END""",
            f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
        ]
        for sql in statements:
            schema_editor.execute(sql)


def backwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS pagetext_search_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS pagetext_search_bigrams")
    elif vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0013_page_text")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

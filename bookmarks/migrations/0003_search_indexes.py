"""Trigram search indexes, kept in sync by the database itself (bookmarks/search.py).

PostgreSQL: a pg_trgm GIN index over the same expression ``SearchDocument``
builds. SQLite: an FTS5 trigram table with external content and triggers.

Hazard (SQLite): Django rebuilds a table for many ALTERs (new table, copy,
drop, rename) and dropping the old table drops these triggers. A later
migration that alters ``bookmarks_bookmark`` on SQLite must recreate them:
call ``create_sqlite_search(schema_editor)`` again. tests/test_search.py
checks the triggers work after all migrations.
"""

from django.db import migrations

SEARCH_FIELDS = ("title", "page_title", "url", "note", "description")
FTS = "bookmarks_bookmark_fts"
PG_DOCUMENT = " || E'\\n' || ".join(f'"{field}"' for field in SEARCH_FIELDS)


def create_sqlite_search(schema_editor) -> None:
    columns = ", ".join(SEARCH_FIELDS)
    new = ", ".join(f"new.{field}" for field in SEARCH_FIELDS)
    old = ", ".join(f"old.{field}" for field in SEARCH_FIELDS)
    statements = [
        f"DROP TABLE IF EXISTS {FTS}",
        f"CREATE VIRTUAL TABLE {FTS} USING fts5({columns}, content='bookmarks_bookmark', content_rowid='id', "
        "tokenize='trigram')",
        f"""CREATE TRIGGER IF NOT EXISTS bookmarks_bookmark_fts_ai AFTER INSERT ON bookmarks_bookmark BEGIN
            INSERT INTO {FTS}(rowid, {columns}) VALUES (new.id, {new}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS bookmarks_bookmark_fts_ad AFTER DELETE ON bookmarks_bookmark BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {columns}) VALUES ('delete', old.id, {old}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS bookmarks_bookmark_fts_au AFTER UPDATE OF {columns} ON bookmarks_bookmark
            BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {columns}) VALUES ('delete', old.id, {old});
            INSERT INTO {FTS}(rowid, {columns}) VALUES (new.id, {new}); END""",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
    ]
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS bookmark_search_trgm ON bookmarks_bookmark "
            f"USING gin (({PG_DOCUMENT}) gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        create_sqlite_search(schema_editor)


def backwards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS bookmark_search_trgm")
    elif vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS bookmarks_bookmark_fts_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0002_import_export_api")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""SQLite: two-character terms in kept page text from an FTS5 index of its non-ASCII pairs (bookmarks/bigrams.py).

``PageText.pairs`` holds them; ``bookmarks_pagetext_pairs_fts`` (the
``unicode61`` tokenizer, diacritics kept) indexes them as words, kept in step
by triggers. Adding the column may make Django rebuild ``bookmarks_pagetext``
on SQLite, which drops the text search triggers of 0014: they are made again
here, after it. Existing rows get their pairs computed in Python.
"""

import importlib

from django.db import migrations, models

FTS = "bookmarks_pagetext_pairs_fts"
TABLE = "bookmarks_pagetext"


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    importlib.import_module("bookmarks.migrations.0014_page_text_search").forwards(apps, schema_editor)
    from bookmarks.bigrams import text_pairs

    PageText = apps.get_model("bookmarks", "PageText")
    for row in PageText.objects.exclude(text="").only("pk", "text").iterator():
        PageText.objects.filter(pk=row.pk).update(pairs=text_pairs(row.text))
    statements = [
        f"DROP TABLE IF EXISTS {FTS}",
        f"CREATE VIRTUAL TABLE {FTS} USING fts5(pairs, content='{TABLE}', content_rowid='bookmark_id', "
        "tokenize='unicode61 remove_diacritics 0')",
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS}(rowid, pairs) VALUES (new.bookmark_id, new.pairs); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, pairs) VALUES ('delete', old.bookmark_id, old.pairs); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF pairs ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, pairs) VALUES ('delete', old.bookmark_id, old.pairs);
            INSERT INTO {FTS}(rowid, pairs) VALUES (new.bookmark_id, new.pairs); END""",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
    ]
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for suffix in ("ai", "ad", "au"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("bookmarks", "0015_link_health")]

    operations = [
        migrations.AddField(model_name="pagetext", name="pairs", field=models.TextField(blank=True, default="")),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]

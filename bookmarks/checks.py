"""System checks for what the bookmarks app needs from the database."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import connections


@register("database")
def sqlite_supports_returning(app_configs=None, databases=None, **kwargs):
    """SQLite must be 3.35 or newer: a fetch claims its row with ``UPDATE ... RETURNING`` (bookmarks.fetch_sql)."""
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        from sqlite3 import sqlite_version, sqlite_version_info

        if sqlite_version_info < (3, 35):
            errors.append(
                Error(
                    f"SQLite {sqlite_version} is too old: favsite needs 3.35 or newer (UPDATE ... RETURNING).",
                    hint="Use a Python built against a newer SQLite (Debian 12, Ubuntu 22.04 and the python "
                    "Docker images have one), or PostgreSQL through DATABASE_URL.",
                    id="bookmarks.E001",
                )
            )
    return errors

"""System checks: what favsite needs from its database is said at start, not at the first fetch."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from bookmarks.checks import sqlite_supports_returning

needs_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="a check of the SQLite library")


@needs_sqlite
def test_an_sqlite_without_returning_is_refused_with_a_hint(monkeypatch):
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    (error,) = sqlite_supports_returning(databases=["default"])
    assert error.id == "bookmarks.E001" and "3.34.1" in error.msg and "3.35" in error.msg


def test_this_database_passes():
    assert sqlite_supports_returning(databases=["default"]) == []


def test_the_check_runs_only_for_the_databases_asked_about(monkeypatch):
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    assert sqlite_supports_returning(databases=None) == []

"""Shared fixtures. Real services only: SQLite/PostgreSQL, Redis, local servers."""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model

from bookmarks import services
from bookmarks.models import Bookmark

# Service fixtures (page_server, celery_worker, ...): see each module's docstring.
pytest_plugins = [
    "tests.fixtures.pages",
    "tests.fixtures.dns",
    "tests.fixtures.celery",
    "tests.fixtures.prosody",
    "tests.fixtures.mail",
]

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory) -> None:
    """Give each test run its own test database, so runs can overlap.

    SQLite gets a file, not Django's in-memory default: the worker, the gateway
    and other processes a test starts must see the same rows.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(tmp_path_factory.getbasetemp() / "favsite-test.sqlite3")
    else:
        name = f"test_favsite_{os.getpid()}"
    db.setdefault("TEST", {})["NAME"] = name


def live_database_url() -> str:
    """A DATABASE_URL for the running test database, for processes a test starts."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return (
        f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{connection.settings_dict['NAME']}"
    )


@contextlib.contextmanager
def bookmark_writes_blocked() -> Iterator[None]:
    """While inside, no other process can write bookmarks: a second connection holds the lock.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock; PostgreSQL:
    ``LOCK TABLE ... IN EXCLUSIVE MODE`` (reads go on, writes wait). Leaving
    rolls the holding transaction back, and the writers waiting go on.
    """
    import psycopg
    from django.db import connection

    if connection.vendor == "sqlite":
        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(live_database_url(), autocommit=True)
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE bookmarks_bookmark IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_user(username: str | None = None, password: str = "correct horse battery"):
    name = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=name, password=password)


def make_bookmark(user, url: str | None = None, **overrides) -> Bookmark:
    """A bookmark saved through the service, then given any field overrides."""
    tags = overrides.pop("tags", ())
    note = overrides.pop("note", "")
    title = overrides.pop("title", "")
    result = services.save_url(
        user, url or f"https://example.com/page/{next(_counter)}", title=title, tags=tags, note=note
    )
    if overrides:
        Bookmark.objects.filter(pk=result.bookmark.pk).update(**overrides)
    return Bookmark.objects.get(pk=result.bookmark.pk)


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def other_user(db):
    return make_user("mallory")


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing is slow on purpose; tests do not need it to be."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _login_limit_prefix(settings):
    """Login and sign-up counts under a prefix of each test's own, removed afterwards (Redis is shared)."""
    from favsite.redis import redis_client

    prefix = settings.LOGIN_LIMIT_PREFIX = f"favsite-test:login:{uuid.uuid4().hex}"
    client = redis_client()  # the real one: a test may point REDIS_URL at a dead port
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)

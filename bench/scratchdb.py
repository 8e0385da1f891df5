"""Throw-away databases (and Redis keys) for the benchmarks, so a run never touches real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str | None]:
    """A new PostgreSQL database's URL (None when PostgreSQL does not answer), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def backend_urls(backends: str, workdir: Path, prefix: str) -> Iterator[tuple[str, str]]:
    """(label, DATABASE_URL) for each of ``sqlite,postgres``; a scratch database lives until the next step."""
    for backend in backends.split(","):
        if backend == "sqlite":
            yield "SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}"
        elif backend == "postgres":
            with scratch_postgres(prefix) as url:
                if url is None:
                    print("PostgreSQL does not answer: skipped")
                    continue
                yield "PostgreSQL", url


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (a run's own Redis keys)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)

"""Fetch pipeline benchmark: one worker fetching, extracting and saving from a local page server.

    .venv/bin/python bench/fetch.py                                  # default configurations, 3000 bookmarks each
    .venv/bin/python bench/fetch.py --count 5000 --configs threads:16:8,prefork:2:16
    .venv/bin/python bench/fetch.py --latency 0.1 --count 1000       # pages that take 100 ms, like remote ones
    .venv/bin/python bench/fetch.py --postgres                       # on a scratch PostgreSQL database

For each configuration ``POOL:CONCURRENCY[:PREFETCH[:DB_REUSE]]`` (DB_REUSE is
``CELERY_DB_REUSE_MAX``; 0 closes the connection after every task) it saves ``--count``
bookmarks through ``services.save_url`` (which queues one
``fetch_metadata`` task each), then starts ``celery -A favsite worker`` with
that pool and concurrency on the ``fetch`` queue and waits until every
bookmark is ``ok``. Throughput is counted between the first and the last
``fetched_at``, so worker start-up is left out. The page server is a separate
asyncio process on 127.0.0.1 serving a 20 KB page (its CPU shares the same
cores, as it would on a small host fetching real sites it would not).

A temporary SQLite database (or, with ``--postgres``, a scratch database on
``BENCH_POSTGRES_URL``'s server, dropped afterwards) is created and migrated. Redis keys
carry a per-run prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratchdb import PG_ADMIN_URL, delete_redis_keys, scratch_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.processes import stop_process  # noqa: E402 (needs ROOT on the path)

PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Benchmark page &amp; friends</title>"
    "<meta name='description' content='A page for the fetch benchmark'>"
    "<meta property='og:site_name' content='Bench'><link rel='icon' href='/icon.png'>"
    "<style>" + "p{margin:0}" * 500 + "</style></head><body>" + "<p>filler text</p>" * 1000 + "</body></html>"
).encode()


def serve(port: int, latency: float) -> None:
    """The page server (runs in a child process); ``latency`` seconds before each answer, like a remote site."""
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
        + f"Content-Length: {len(PAGE)}\r\n\r\n".encode()
        + PAGE
    )

    class Page(asyncio.Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:
            self.transport, self.buffer = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            if b"\r\n\r\n" in self.buffer:
                self.buffer = b""
                if latency:
                    asyncio.get_running_loop().call_later(latency, self.answer)
                else:
                    self.answer()

        def answer(self) -> None:
            self.transport.write(response)
            self.transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Page, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")
    import django

    django.setup()


def queue_bookmarks(count: int, page_url: str, label: str) -> int:
    """Save ``count`` new bookmarks (their tasks are queued on commit); returns the owner's id."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bookmarks import services

    user = get_user_model().objects.create_user(f"bench-{label}-{time.time_ns()}")
    for start in range(0, count, 500):
        with transaction.atomic():
            for i in range(start, min(count, start + 500)):
                services.save_url(user, f"{page_url}?n={i}&u={user.pk}")
    return user.pk


def wait_until_done(user_id: int, count: int, timeout: float) -> tuple[int, float]:
    """(bookmarks ok, seconds between first and last fetched_at)."""
    from django.db.models import Max, Min

    from bookmarks.models import Bookmark

    rows = Bookmark.objects.filter(owner_id=user_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and rows.filter(status="pending").exists():
        time.sleep(0.2)
    span = rows.aggregate(first=Min("fetched_at"), last=Max("fetched_at"))
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    return rows.filter(status="ok").count(), seconds


def run_config(config: str, count: int, page_url: str, env: dict[str, str], timeout: float) -> str:
    pool, concurrency, prefetch, reuse = (config.split(":") + ["4", "1000"][len(config.split(":")) - 2 :])[:4]
    env = {**env, "CELERY_DB_REUSE_MAX": reuse}
    user_id = queue_bookmarks(count, page_url, config.replace(":", "-"))
    command = [
        sys.executable, "-m", "celery", "-A", "favsite", "worker", "-P", pool, "-c", concurrency,
        "--prefetch-multiplier", prefetch, "-Q", "fetch", "-l", "WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        ok, seconds = wait_until_done(user_id, count, timeout)
    finally:
        stop_process(worker, 20)
    rate = (ok - 1) / seconds if seconds else 0.0
    figures = f"{ok:>6}/{count:<6} {seconds:>7.2f} s {rate:>8.0f} bookmarks/s"
    return f"{pool:>8} {concurrency:>4} {prefetch:>8} {reuse:>6} {figures}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument(
        "--configs", default="solo:1:16,threads:8:4,threads:16:8,threads:32:8,prefork:2:16,prefork:4:16"
    )
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--postgres", action="store_true", help=f"use a scratch database at {PG_ADMIN_URL}")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the page server waits before answering")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return

    with tempfile.TemporaryDirectory(prefix="favsite-bench-") as tmp, contextlib.ExitStack() as scratch:
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
        if args.postgres:
            database_url = scratch.enter_context(scratch_postgres("favsite_bench_fetch"))
            if database_url is None:
                raise SystemExit(f"PostgreSQL at {PG_ADMIN_URL} does not answer")
        run(args, database_url)


def run(args: argparse.Namespace, database_url: str) -> None:
    prefix = f"favsite-bench-{os.getpid()}:"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_KEY_PREFIX": prefix,
        "FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--latency", str(args.latency)], start_new_session=True
    )
    try:
        setup_django(env)
        time.sleep(0.5)
        print(
            f"database {database_url.split(':', 1)[0]}, {args.count} bookmarks per configuration, "
            f"page latency {args.latency * 1000:.0f} ms, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"{'pool':>8} {'conc':>4} {'prefetch':>8} {'reuse':>6} {'ok':>13} {'span':>9} {'throughput':>19}")
        for config in args.configs.split(","):
            print(run_config(config, args.count, f"http://127.0.0.1:{port}/page", env, args.timeout), flush=True)
    finally:
        stop_process(server)
        delete_redis_keys(env.get("CELERY_BROKER_URL") or env.get("REDIS_URL", "redis://127.0.0.1:6379/0"), prefix)
        if args.postgres:
            from django.db import connections

            connections.close_all()  # before the scratch database is dropped


if __name__ == "__main__":
    main()

"""Live-poll benchmark: what an open list tab's poll of ``/bookmarks/live/`` costs when nothing changed.

    .venv/bin/python bench/live.py                        # SQLite and PostgreSQL (when it answers)
    .venv/bin/python bench/live.py --count 2000 --seconds 2 --backends sqlite   # a smoke run

One user with ``--count`` bookmarks (``bench/web.py``'s seed) polls as the
list page does, with a cursor after the last change: idle polls. For the
plain list and for a search being shown it prints the idle polls one
process (one core) answers per second through Django's test client (with
the session and user lookups, DEBUG off as deployed) and the SQL queries
per idle poll, split into bookmark/tag queries and the rest.

"without the marker" is the same poll with the user's change marker
deleted before each one (``bookmarks.services.changes``): the poll then
runs its queries as every poll did before the marker, plus the marker's
two Redis commands. Uses the Redis at ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from scratchdb import backend_urls

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "favsite.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.update(DEBUG="0", SECRET_KEY="bench-only", SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import override_settings

    # As bench/web.py: no collectstatic here, so static URLs (the default site icon) come unhashed.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


def polls_per_second(client, params: dict[str, str], seconds: float, before_each=None) -> float:
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        if before_each:
            before_each()
        assert client.get("/bookmarks/live/", params).status_code == 200
        done += 1
    return done / seconds


def queries_of_one(client, params: dict[str, str], before=None) -> tuple[int, int]:
    """(bookmark and tag queries, other queries) of one poll."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        client.get("/bookmarks/live/", params)
    ours = [q for q in queries if "bookmarks_bookmark" in q["sql"] or "bookmarks_tag" in q["sql"]]
    return len(ours), len(queries) - len(ours)


def run_backend(database_url: str, count: int, seconds: float) -> None:
    setup_django(database_url)
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from web import seed

    from bookmarks.services import changes
    from favsite.redis import redis_client

    call_command("migrate", verbosity=0)
    big, _tag = seed(count, 50, 1, min(count, 1000))
    client = Client()
    client.force_login(big)
    since = timezone.now().isoformat()  # after the seed: nothing changes from here on

    def settled() -> None:  # the last change long before the cursor (the seed wrote rows without the services)
        redis_client().set(changes.marker_key(big.pk), "0")

    def forget() -> None:
        redis_client().delete(changes.marker_key(big.pk))

    print(f"  {'poll':24} {'marker':>8} {'polls/s':>9} {'bookmark/tag queries':>21} {'other queries':>14}")
    for label, query in (("list", ""), ("search shown (kernel)", "kernel")):
        params = {"since": since, "q": query, "tag": "", "from": "/bookmarks/"}
        for mode, before in (("with", None), ("without", forget)):
            settled()
            polls_per_second(client, params, min(seconds, 1.0), before)  # warm up
            rate = polls_per_second(client, params, seconds, before)
            ours, other = queries_of_one(client, params, before)
            print(f"  {label:24} {mode:>8} {rate:9.0f} {ours:21} {other:14}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="polling time per case")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_backend(args.child, args.count, args.seconds)
        return
    child = [sys.executable, __file__, "--count", str(args.count), "--seconds", str(args.seconds), "--child"]
    with tempfile.TemporaryDirectory(prefix="favsite-bench-live-") as workdir:
        for label, url in backend_urls(args.backends, Path(workdir), "favsite_bench_live"):
            print(label)
            subprocess.run([*child, url], check=True)


if __name__ == "__main__":
    main()

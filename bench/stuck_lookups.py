"""Other people's fetches while one person's links name hosts whose DNS lookup never answers.

    .venv/bin/python bench/stuck_lookups.py                          # 16 stuck links, 200 links of others
    .venv/bin/python bench/stuck_lookups.py --stuck 32 --others 400  # more of both
    .venv/bin/python bench/stuck_lookups.py --part lookups           # only part 1 (no worker, no database)

Everything runs on loopback: a DNS server (``tests/fixtures/dns.py``) answers
``pages.bench.test`` with 127.0.0.1 and never answers any other name; a page
server (``tests/fixtures/pages.py``) serves the page.

1. Lookups, in this process: how many lookups of the answered name other
   callers complete in ``--window`` seconds (8 callers, each lookup with a
   2 s deadline) while ``--stuck`` lookups of unanswered names wait.
   ``pool of 8`` is the design this replaced, reproduced over the same DNS
   server: a pool of 8 threads, each holding a blocking lookup until the
   resolver gives up (``--timeout`` s at most, as glibc's 5 s x 2 tries did),
   the caller waiting at most its deadline. ``resolve()`` is the fetcher's resolver
   now: no pool, each lookup cancelled at its deadline. Each design is also
   measured with no stuck lookup (the baseline).
2. Worker: ``celery worker --pool threads --concurrency 16`` (the
   Procfile's) with ``FETCH_TIMEOUT=--timeout``. User A saves ``--stuck``
   links to unanswered names, then user B saves ``--others`` links to the
   page; B's links per second (from B's first save to B's last title) with
   no stuck links (baseline), with the fair share off (``FETCH_USER_SLOTS``
   high, as before) and on (the default 8), and how many of A's links
   were still waiting when B's were done.

A temporary SQLite database (``--postgres``: a scratch database on
``BENCH_POSTGRES_URL``'s server) is migrated; Redis keys carry a per-run
prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from scratchdb import PG_ADMIN_URL, delete_redis_keys, scratch_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.processes import stop_process  # noqa: E402 (needs ROOT on the path)
from tests.fixtures.dns import DnsServer  # noqa: E402
from tests.fixtures.pages import PageServer  # noqa: E402

ANSWERED = "pages.bench.test"
CALLERS = 8
CALLER_DEADLINE = 2.0
PAGE = "<html><head><title>Someone else's page</title></head><body></body></html>"


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")
    import django

    django.setup()


# --- part 1: lookups -------------------------------------------------------------------------------------------


def blocking_lookup(name: str, hold: float) -> None:
    """A lookup that only ends when the resolver gives up, as ``getaddrinfo`` did: a fresh c-ares channel of its own.

    (The fetcher's shared channel learns that the server answers others in
    microseconds and gives up on a silent name much sooner than glibc did.)
    """
    import pycares
    from django.conf import settings

    done = threading.Event()
    channel = pycares.Channel(servers=settings.FETCH_DNS_SERVERS)
    try:
        channel.getaddrinfo(name, 80, type=socket.SOCK_STREAM, callback=lambda result, error: done.set())
        if not done.wait(hold):
            raise TimeoutError(name)
    finally:
        channel.close()


def pooled_lookup(pool: ThreadPoolExecutor, hold: float):
    """The replaced design: the lookup runs in the pool until the resolver gives up; the caller waits its deadline."""

    def lookup(name: str, deadline: float) -> None:
        future = pool.submit(blocking_lookup, name, hold)
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise TimeoutError(name) from None

    return lookup


def direct_lookup(name: str, deadline: float) -> None:
    from bookmarks.fetching.metadata.resolver import resolve

    resolve(name, 80, deadline)


def lookups_done(lookup, stuck: int, window: float, hold: float) -> tuple[int, int]:
    """(lookups of the answered name completed, failed) by ``CALLERS`` callers in ``window`` s, ``stuck`` waiting."""
    waiting = [
        threading.Thread(target=_quietly, args=(lookup, f"stuck{i}-{time.time_ns()}.bench.test", hold))
        for i in range(stuck)
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.05)  # the stuck lookups are asked first, as when their links came first
    counts = [0, 0]
    end = time.monotonic() + window

    def caller() -> None:
        while time.monotonic() < end:
            try:
                lookup(ANSWERED, time.monotonic() + CALLER_DEADLINE)
            except Exception:
                counts[1] += 1
            else:
                counts[0] += time.monotonic() < end

    callers = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in callers:
        thread.start()
    for thread in callers + waiting:
        thread.join()
    return counts[0], counts[1]


def _quietly(lookup, name: str, hold: float) -> None:
    with contextlib.suppress(Exception):
        lookup(name, time.monotonic() + hold)


def part_lookups(args: argparse.Namespace) -> None:
    print(
        f"1. lookups of {ANSWERED} by {CALLERS} callers in {args.window:.1f} s ({CALLER_DEADLINE:.0f} s deadline each)"
    )
    print(f"{'design':<34} {'stuck':>5} {'done':>7} {'failed':>7} {'lookups/s':>10}")
    for label in ("pool of 8 (replaced)", "resolve() (now)"):
        for stuck in (0, args.stuck):
            pool = ThreadPoolExecutor(max_workers=8)
            lookup = pooled_lookup(pool, args.timeout) if label.startswith("pool") else direct_lookup
            done, failed = lookups_done(lookup, stuck, args.window, args.timeout)
            pool.shutdown(wait=True)
            print(f"{label:<34} {stuck:>5} {done:>7} {failed:>7} {done / args.window:>10.0f}", flush=True)


# --- part 2: a worker ------------------------------------------------------------------------------------------


def save_links(label: str, urls: list[str]) -> int:
    """A new user saving these links (their fetch tasks are queued on commit); the user's id."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bookmarks import services

    user = get_user_model().objects.create_user(f"bench-{label}-{time.time_ns()}")
    with transaction.atomic():
        for url in urls:
            services.save_url(user, url)
    return user.pk


def wait_for_titles(user_id: int, timeout: float) -> tuple[int, int]:
    """(ok, failed) of the user's links once none is pending (or ``timeout`` s have passed)."""
    from bookmarks.models import Bookmark

    rows = Bookmark.objects.filter(owner_id=user_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and rows.filter(status="pending").exists():
        time.sleep(0.05)
    return rows.filter(status="ok").count(), rows.filter(status="failed").count()


def worker_round(args: argparse.Namespace, env: dict[str, str], label: str, slots: int, stuck: int, url: str) -> str:
    """One configuration: a fresh worker; A's stuck links, then B's links; B's rate and A's links still waiting."""
    from bookmarks.models import Bookmark

    command = [
        sys.executable, "-m", "celery", "-A", "favsite", "worker", "-P", "threads", "-c", "16",
        "-Q", "fetch", "-l", "WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    worker_env = {**env, "FETCH_USER_SLOTS": str(slots)}
    worker = subprocess.Popen(
        command, cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        warm_up = save_links("warm-up", [f"{url}?warm-up"])
        wait_for_titles(warm_up, 60)  # the worker is consuming
        run = time.time_ns()
        a = save_links("a", [f"http://stuck{i}-{run}.bench.test/" for i in range(stuck)])
        time.sleep(0.5 if stuck else 0)  # A's fetches have taken their threads
        started = time.monotonic()
        b = save_links("b", [f"{url}?n={i}&run={run}" for i in range(args.others)])
        ok, failed = wait_for_titles(b, args.worker_timeout)
        seconds = time.monotonic() - started
        waiting = Bookmark.objects.filter(owner_id=a, status="pending").count()
    finally:
        stop_process(worker, 30)
    return (
        f"{label:<26} {slots:>5} {stuck:>5} {ok:>5}/{args.others:<5} {failed:>6} {seconds:>7.2f} s "
        f"{ok / seconds:>7.1f} {waiting:>9}"
    )


def bench_env(args: argparse.Namespace, database_url: str, dns: DnsServer) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_KEY_PREFIX": args.prefix,
        "FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
        "FETCH_DNS_SERVERS": dns.address,
        "FETCH_TIMEOUT": str(args.timeout),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "LOG_LEVEL": "WARNING",
    }


def part_worker(args: argparse.Namespace, env: dict[str, str], pages: PageServer) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    page_url = f"http://{ANSWERED}:{pages.port}/page"
    print(f"2. worker (threads, 16): user B's {args.others} links while user A's links wait on lookups")
    print(f"{'configuration':<26} {'slots':>5} {'stuck':>5} {'B ok':>11} {'failed':>6} {'B span':>9} {'B/s':>7} "
          f"{'A waiting':>9}")  # fmt: skip
    rounds = (
        ("no stuck links (baseline)", 8, 0),
        ("fair share off", 1000, args.stuck),
        ("fair share on", 8, args.stuck),
    )
    for label, slots, stuck in rounds:
        print(worker_round(args, env, label, slots, stuck, page_url), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stuck", type=int, default=16, help="links (lookups) that never get an answer")
    parser.add_argument("--others", type=int, default=200, help="links of another user (part 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="FETCH_TIMEOUT, and the old resolver's hold")
    parser.add_argument("--window", type=float, default=3.0, help="seconds of lookups counted (part 1)")
    parser.add_argument("--worker-timeout", type=float, default=180.0)
    parser.add_argument("--part", choices=("lookups", "worker", "both"), default="both")
    parser.add_argument("--postgres", action="store_true", help=f"use a scratch database at {PG_ADMIN_URL}")
    args = parser.parse_args()
    args.prefix = f"favsite-bench-{os.getpid()}:"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.stuck} stuck, timeout {args.timeout} s")
    with (
        DnsServer() as dns,
        PageServer() as pages,
        tempfile.TemporaryDirectory(prefix="favsite-bench-") as tmp,
        contextlib.ExitStack() as scratch,
    ):
        dns.answer(ANSWERED, "127.0.0.1")
        pages.route("/page", PAGE)
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
        if args.postgres:
            database_url = scratch.enter_context(scratch_postgres("favsite_bench_stuck"))
            if database_url is None:
                raise SystemExit(f"PostgreSQL at {PG_ADMIN_URL} does not answer")
        env = bench_env(args, database_url, dns)
        setup_django(env)
        try:
            if args.part != "worker":
                part_lookups(args)
            if args.part != "lookups":
                part_worker(args, env, pages)
        finally:
            delete_redis_keys(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), args.prefix)
            if args.postgres:
                from django.db import connections

                connections.close_all()  # before the scratch database is dropped


if __name__ == "__main__":
    main()

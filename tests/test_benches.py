"""Every benchmark in bench/ runs once at a tiny size, so that none can rot unnoticed.

Each runs as it would by hand (a subprocess, ``python bench/NAME.py``) on the
database of this test run's kind: SQLite, or a scratch database on this run's
PostgreSQL server (the benches create and drop their own). They get only
loopback addresses for PostgreSQL and Redis. What is checked is that a bench
finishes and prints its figures; the figures themselves are never judged here
(timings belong to bench/, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# A smoke run takes a few seconds; this only stops a bench that hangs.
TIMEOUT = 120
NUMBER = r"\d[\d,.]*"


def on_postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def loopback(url: str) -> str:
    """``url``, after making sure its host is a loopback address."""
    host = urlsplit(url).hostname or ""
    for *_, address in socket.getaddrinfo(host, None):
        assert ipaddress.ip_address(address[0]).is_loopback, f"{url}: benches connect to loopback addresses only"
    return url


def bench_env() -> dict[str, str]:
    """The environment of a bench: this run's Redis and PostgreSQL server, nothing inherited that points elsewhere."""
    inherited = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "BENCH_POSTGRES_URL", "DJANGO_SETTINGS_MODULE")
    env = {name: value for name, value in os.environ.items() if name not in inherited}
    env["REDIS_URL"] = loopback(settings.REDIS_URL)
    if on_postgres():
        db = settings.DATABASES["default"]
        user = db.get("USER") or ""
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        auth = f"{user}{password}@" if user else ""
        # The server's configured database: the benches connect to it only to create and drop their own.
        env["BENCH_POSTGRES_URL"] = loopback(
            f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
        )
    return env


def run_bench(name: str, *args: str) -> str:
    """The output of ``bench/NAME.py ARGS``, which must exit 0."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


@pytest.fixture
def backend() -> str:
    return "postgres" if on_postgres() else "sqlite"


def test_the_web_bench_prints_the_times_of_the_list_page_and_the_searches(backend):
    output = run_bench(
        "web.py", "--count", "200", "--tags", "50", "--others", "1", "--requests", "2", "--backends", backend
    )
    assert ("PostgreSQL" if backend == "postgres" else "SQLite") in output
    assert re.search(rf"list page 1 +{NUMBER} +{NUMBER} +{NUMBER}\n", output), output
    # A search row has the icontains baseline beside it.
    assert re.search(rf"search two words +({NUMBER} +){{5}}{NUMBER}\n", output), output


def test_the_live_bench_prints_idle_polls_per_second_and_their_queries(backend):
    output = run_bench("live.py", "--count", "200", "--seconds", "0.2", "--backends", backend)
    # The idle poll with the marker runs no bookmark query; without it, the list's one query.
    assert re.search(rf"list +with +{NUMBER} +0 +{NUMBER}\n", output), output
    assert re.search(rf"list +without +{NUMBER} +1 +{NUMBER}\n", output), output


def test_the_import_bench_prints_the_import_export_and_naive_rates(backend):
    output = run_bench("import.py", "--count", "200", "--naive", "20", "--backends", backend)
    assert "bookmarks 200;" in output
    for label in ("parse only", "import (bulk)", "re-import (all known)", "export", "naive save_url"):
        assert re.search(rf"{re.escape(label)} +{NUMBER} s", output), (label, output)


def test_the_import_memory_bench_prints_the_peak_of_each_step_whole_and_in_pieces(backend):
    output = run_bench("import_memory.py", "--megabytes", "0.05", "--backends", backend)
    for step in ("web-whole", "web-parts", "worker-whole", "worker-pieces"):
        assert re.search(rf"{step} +peak +{NUMBER} MB +grew +-?{NUMBER} MB", output), (step, output)


def test_the_fetch_bench_fetches_every_bookmark_and_prints_the_throughput(backend):
    extra = ["--postgres"] if backend == "postgres" else []
    output = run_bench("fetch.py", "--count", "10", "--configs", "solo:1:4", "--timeout", "60", *extra)
    assert re.search(rf"solo +1 +4 +\d+ +10/10 +{NUMBER} s +{NUMBER} bookmarks/s", output), output


def test_the_extract_bench_prints_ours_against_beautifulsoup():
    output = run_bench("extract.py", "--pages", "2", "--rounds", "1", "--baseline-rounds", "1")
    median = rf"median per page \(\d+ pages\): ours {NUMBER} ms, .* BeautifulSoup\(html.parser\) {NUMBER} ms"
    assert re.search(median, output), output
    assert re.search(rf"400 KB script before the title: ours {NUMBER} ms, linkding-style {NUMBER} ms", output), output


def test_the_ingest_bench_saves_and_confirms_every_message_and_prints_the_rates(backend):
    extra = ["--postgres"] if backend == "postgres" else []
    output = run_bench(
        "ingest.py", "--messages", "20", "--users", "2", "--latency-rate", "5", "--latency-seconds", "1",
        "--worker-processes", "1", "--workers", "4", *extra,
    )  # fmt: skip
    assert re.search(r"gateway, flat out +sent +20 +answered +20 ", output), output
    assert re.search(rf"CPU ms per URL: gateway {NUMBER} ", output), output
    assert re.search(rf"gateway memory after 20 messages: {NUMBER} MB RSS", output), output


def test_the_stuck_lookups_bench_prints_lookup_rates_and_other_users_titles_per_second(backend):
    extra = ["--postgres"] if backend == "postgres" else []
    output = run_bench(
        "stuck_lookups.py", "--stuck", "4", "--others", "5", "--timeout", "1", "--window", "0.3", *extra
    )  # fmt: skip
    for design in (r"pool of 8 \(replaced\)", r"resolve\(\) \(now\)"):
        assert re.search(rf"{design} +4 +\d+ +\d+ +\d+", output), output
    for configuration in (r"no stuck links \(baseline\) +8 +0", r"fair share off +1000 +4", r"fair share on +8 +4"):
        assert re.search(rf"{configuration} +5/5 +0 +{NUMBER} s +{NUMBER} +\d+", output), output

"""Search inside kept page text: the list page with a search, at N bookmarks of ~2,000 words of text each.

    flock /tmp/favsite-bench.lock .venv/bin/python bench/text_search.py                 # 100,000, both backends
    flock /tmp/favsite-bench.lock .venv/bin/python bench/text_search.py --count 10000 --backends sqlite
    .venv/bin/python bench/text_search.py --count 300 --words 200 --requests 3 --others 1   # a smoke run
    ... bench/text_search.py --count 10000 --keep DIR   # seed once, measure again later on the same data

With ``--keep DIR`` the databases outlive the run: SQLite in
``DIR/text-<count>.sqlite3``, PostgreSQL as ``favsite_bench_text_keep_<count>``;
a later run with the same ``--keep`` and ``--count`` finds the big user's
texts there and measures without seeding again (delete the file or drop
the database to start afresh).

The collection of ``bench/web.py`` (one big user, ``--others`` users of
1,000 bookmarks, tags, English and Chinese titles), then every bookmark of
the big user gets a ``PageText`` of about ``--words`` words (English words
and two-character Chinese words, drawn by a Zipf-like law from a vocabulary
of 8,000) with a few marker words of known frequency: ``ubiquitous`` in
every text, ``medial`` in 5 %, ``scarceword`` in 0.1 %, 榫卯 in 1 %. Each
backend runs in a child process on a scratch database. Reported: the seeding
time, the database size the texts add (SQLite: the file's pages before and
after; PostgreSQL: ``pg_total_relation_size`` of the text table, its TOAST
and indexes), then for each search p50/p95 of the whole request and its time
in the database, and the same request with the search swapped for a plain
scan (``icontains`` over the fields or the text, no index), in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from scratchdb import backend_urls

ROOT = Path(__file__).resolve().parent.parent
MARKERS = {"ubiquitous": 1.0, "medial": 0.05, "scarceword": 0.001, "榫卯": 0.01}
CASES = [
    ("text: word in every text", "/bookmarks/?q=ubiquitous"),
    ("text: word in 5 %", "/bookmarks/?q=medial"),
    ("text: word in 0.1 %", "/bookmarks/?q=scarceword"),
    ("text: 2-char Chinese in 1 %", "/bookmarks/?q=榫卯"),
    ("text: phrase", '/bookmarks/?q="medial ubiquitous"'),
    ("text: two words", "/bookmarks/?q=medial+kernel"),
    ("text: word -word", "/bookmarks/?q=medial+-scarceword"),
    ("in:title word", "/bookmarks/?q=kernel+in:title"),
]


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    hanzi = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    english = {"".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(6000)}
    chinese = {"".join(rng.choices(hanzi, k=2)) for _ in range(2000)}
    words = sorted(english | chinese)
    rng.shuffle(words)
    return [word for word in words if word not in MARKERS]


def make_text(rng: random.Random, words: list[str], weights: list[float], count: int) -> str:
    drawn = rng.choices(words, cum_weights=weights, k=count)
    for marker, share in MARKERS.items():
        if rng.random() < share:
            drawn.insert(rng.randrange(len(drawn)), marker)
    if "medial" in drawn and rng.random() < 0.5:
        drawn.insert(rng.randrange(len(drawn)), "medial ubiquitous")
    lines = [" ".join(drawn[i : i + 80]) + "." for i in range(0, len(drawn), 80)]
    return "\n".join(lines)


def seed_texts(user, words_per_text: int) -> float:
    """A text for every bookmark of ``user``, in batches; returns seconds."""
    from itertools import accumulate

    from django.utils import timezone

    from bookmarks.fetching.text import count_words
    from bookmarks.models import Bookmark, PageText

    rng = random.Random(11)
    words = vocabulary(rng)
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(words))))
    ids = list(Bookmark.objects.filter(owner=user).values_list("id", flat=True))
    now = timezone.now()
    t0 = time.perf_counter()
    for start in range(0, len(ids), 500):
        rows = []
        for pk in ids[start : start + 500]:
            text = make_text(rng, words, weights, words_per_text)
            rows.append(
                PageText(
                    bookmark_id=pk, state=PageText.State.KEPT, text=text, word_count=count_words(text), extracted_at=now
                )
            )
        PageText.objects.bulk_create(rows)
        if start % 10_000 == 0:
            print(f"    texts: {start + len(rows):,}/{len(ids):,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return time.perf_counter() - t0


def database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
        else:
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        return cursor.fetchone()[0]


def text_bytes() -> str:
    """What the texts take: the table, and (PostgreSQL) its indexes apart."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_table_size('bookmarks_pagetext'), pg_indexes_size('bookmarks_pagetext'),"
                " sum(octet_length(text)) FROM bookmarks_pagetext"
            )
            table, indexes, raw = cursor.fetchone()
            return (
                f"table+TOAST {table / 2**20:,.0f} MiB, indexes {indexes / 2**20:,.0f} MiB, text {raw / 2**20:,.0f} MiB"
            )
        cursor.execute("SELECT sum(length(CAST(text AS BLOB))) FROM bookmarks_pagetext")
        return f"text {cursor.fetchone()[0] / 2**20:,.0f} MiB"


def plain_scan(queryset, query: str):
    """The baseline: every word as icontains over the fields or the text, no index; in:title honoured."""
    from django.db.models import Q

    from bookmarks.models import PageText
    from bookmarks.search import IN_TITLE, _scan_condition, _tag_condition, parse_query

    terms = parse_query(query)
    in_text = not any(term.qualifier and term.text == IN_TITLE for term in terms)
    for term in terms:
        if term.qualifier:
            continue
        if term.tag:
            condition = _tag_condition(term.text)
        else:
            condition = _scan_condition(term.text)
            if in_text:
                texts = PageText.objects.filter(text__icontains=term.text).values("bookmark_id")
                condition |= Q(id__in=texts)
        queryset = queryset.exclude(condition) if term.exclude else queryset.filter(condition)
    return queryset


def run_backend(  # noqa: PLR0913 (the command line's numbers)
    database_url: str, count: int, words: int, others: int, requests: int, baseline: bool | None
) -> None:
    """Seed (or find the kept data), then measure; ``baseline`` None: seed only."""
    import web

    web_setup(database_url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from bookmarks import search
    from bookmarks.models import PageText

    call_command("migrate", verbosity=0)
    big = get_user_model().objects.filter(username="big").first()
    if big is None:
        big = seed_all(count, words, others)
    elif PageText.objects.filter(bookmark__owner=big).count() < big.bookmarks.count():
        sys.exit("  the kept database was not seeded to the end (an interrupted run?): delete it and start again")
    else:
        print(f"  kept database: {PageText.objects.count():,} texts ({text_bytes()})", flush=True)
    if baseline is None:
        return
    client = Client()
    client.force_login(big)
    header = f"  {'case':30} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>8}"
    print(header + (f"   {'scan p50':>9} {'p95':>8} {'db p50':>8}" if baseline else ""))
    real = search.search_bookmarks
    for label, url in CASES:
        p50, p95, db50 = web.timed(client, url, requests)
        line = f"  {label:30} {p50:8.1f} {p95:8.1f} {db50:8.1f}"
        if baseline:
            search.search_bookmarks = plain_scan
            try:
                b50, b95, bdb50 = web.timed(client, url, max(3, requests // 10))
            finally:
                search.search_bookmarks = real
            line += f"   {b50:9.1f} {b95:8.1f} {bdb50:8.1f}"
        print(line, flush=True)


def seed_all(count: int, words: int, others: int):
    """The collection and its texts; prints what they took and returns the big user."""
    import web
    from django.db import connection

    from bookmarks.models import PageText

    t0 = time.perf_counter()
    big, _tag = web.seed(count, 5000, others, min(count, 1000))
    print(f"  seeded {count:,} bookmarks (+{others} users of {min(count, 1000):,}) in {time.perf_counter() - t0:.0f} s")
    before = database_bytes()
    seconds = seed_texts(big, words)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    added = database_bytes() - before
    print(
        f"  {PageText.objects.count():,} texts of ~{words:,} words in {seconds:.0f} s; "
        f"the database grew by {added / 2**20:,.0f} MiB ({text_bytes()})",
        flush=True,
    )
    return big


def kept_urls(backends: str, keep: Path, count: int) -> Iterator[tuple[str, str]]:
    """(label, DATABASE_URL) of databases that stay after the run (``--keep``)."""
    import psycopg
    from scratchdb import PG_ADMIN_URL

    for backend in backends.split(","):
        if backend == "sqlite":
            yield "SQLite (kept)", f"sqlite:///{keep.resolve() / f'text-{count}.sqlite3'}"
        elif backend == "postgres":
            name = f"favsite_bench_text_keep_{count}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                    admin.execute(f'CREATE DATABASE "{name}"')
            yield "PostgreSQL (kept)", PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def web_setup(database_url: str) -> None:
    """Django as ``bench/web.py`` runs it: DEBUG off, unhashed static files."""
    import warnings

    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="favsite.settings",
        DEBUG="0",
        SECRET_KEY="bench-only",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import override_settings

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=2000, help="words of text per bookmark")
    parser.add_argument("--others", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain scan (slow at full size)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the databases and reuse them (see above)")
    parser.add_argument("--seed-only", action="store_true", help="with --keep: seed the databases, measure later")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        baseline = None if args.seed_only else not args.no_baseline
        run_backend(args.child, args.count, args.words, args.others, args.requests, baseline)
        return
    sizes = ["--count", args.count, "--words", args.words, "--others", args.others, "--requests", args.requests]
    child = [sys.executable, __file__, *map(str, sizes), *(["--no-baseline"] if args.no_baseline else [])]
    child += [*(["--seed-only"] if args.seed_only else []), "--child"]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for label, url in kept_urls(args.backends, args.keep, args.count):
            print(label, flush=True)
            subprocess.run([*child, url], check=True)
        return
    with tempfile.TemporaryDirectory(prefix="favsite-bench-text-") as workdir:
        for label, url in backend_urls(args.backends, Path(workdir), "favsite_bench_text"):
            print(label, flush=True)
            subprocess.run([*child, url], check=True)


if __name__ == "__main__":
    main()

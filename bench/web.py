"""Web benchmark: the list page and search over 100,000 bookmarks, on SQLite and PostgreSQL.

    .venv/bin/python bench/web.py                    # SQLite and PostgreSQL (when it answers)
    .venv/bin/python bench/web.py --count 20000 --backends sqlite
    .venv/bin/python bench/web.py --count 200 --tags 50 --others 1 --requests 2   # a smoke run

One user has ``--count`` bookmarks (English and Chinese titles, ``--tags``
tags, 5,000 by default), beside ``--others`` other users (10) with 1,000 each
(fewer when ``--count`` is smaller). Each backend runs in a child process on
a scratch database (a temporary SQLite file; a PostgreSQL database dropped
afterwards). Seeding uses bulk_create (the search triggers/indexes still do
their work). Figures are server time: a full request through Django's test
client (middleware, session, queries, template) with DEBUG off as deployed,
``--requests`` times after warming up, p50 and p95; "db p50" is the part of
it spent in the database (the sum of the request's query times).

"icontains" rows run the same page with the search (``bookmarks.search.search_bookmarks``,
which ``with_tags_matching`` calls) swapped for plain ``icontains`` conditions
over the same fields (the old implementation), in the same run, as the baseline.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

from scratchdb import backend_urls

ROOT = Path(__file__).resolve().parent.parent

ENGLISH = (  # noqa: SIM905 (readable as one string)
    "python django search guide tutorial notes web design data cloud music film book news travel food "
    "science history rust golang database index performance release security privacy linux kernel network "
    "browser mobile android apple review analysis weekly daily podcast video interview opinion startup "
    "market finance health sport garden recipe photo camera map city weather energy climate space"
).split()
CHINESE = (  # noqa: SIM905
    "收藏 网址 新闻 技术 教程 笔记 设计 数据 音乐 电影 读书 旅行 美食 科学 历史 数据库 性能 安全 隐私 "
    "网络 浏览器 手机 评测 分析 周刊 播客 视频 采访 观点 创业 市场 金融 健康 体育 花园 菜谱 摄影 地图 城市 "
    "天气 能源 气候 太空 编程 开源 社区 文档 工具 效率"
).split()
PHRASE = "reading list"


def seed(count: int, tags: int, others: int, other_count: int) -> tuple[object, str]:
    """Bulk-create the collection; returns the big user and a mid-sized tag's name."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bookmarks.models import Bookmark, Tag
    from bookmarks.normalize import normalize_url, url_hash

    rng = random.Random(7)
    users = get_user_model().objects
    big = users.create_user("big", password="bench-password-1")
    owners = [(big, count, tags)] + [(users.create_user(f"other{i}"), other_count, 50) for i in range(others)]
    now = timezone.now()
    Through = Bookmark.tags.through
    for owner, n, n_tags in owners:
        tag_rows = Tag.objects.bulk_create([Tag(owner=owner, name=f"tag{i}") for i in range(n_tags)], batch_size=2000)
        batch: list[Bookmark] = []
        for i in range(n):
            words = rng.sample(ENGLISH, 3) + rng.sample(CHINESE, 2)
            rng.shuffle(words)
            if rng.random() < 0.5:
                title = " ".join(words[:4])
            else:
                title = "".join(rng.sample(CHINESE, 3)) + " " + " ".join(rng.sample(ENGLISH, 2))
            if i % 100 == 0:
                title += f" {PHRASE}"
            url = f"https://site{i % 997}.example.com/{owner.username}/{i}/{words[0]}"
            key = normalize_url(url)
            when = now - timedelta(minutes=n - i)
            batch.append(
                Bookmark(
                    owner=owner,
                    url=url,
                    normalized_url=key,
                    url_hash=url_hash(key),
                    title=title,
                    note=" ".join(rng.sample(ENGLISH + CHINESE, 3)) if i % 3 == 0 else "",
                    status=Bookmark.Status.OK,
                    # For the filters (issue 20): 2 % unread, 5 % private, a quarter from chat, a quarter imported.
                    unread=i % 50 == 7,
                    is_private=i % 20 == 3,
                    source=("web", "im", "import", "web")[i % 4],
                    created_at=when,
                    added_at=when,
                )
            )
            if len(batch) == 5000 or i == n - 1:
                created = Bookmark.objects.bulk_create(batch)
                links = [
                    Through(bookmark_id=b.pk, tag_id=tag.pk)
                    for b in created
                    for tag in rng.sample(tag_rows, rng.randint(0, 3))
                ]
                Through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
                batch = []
    seed_icons()
    return big, f"tag{min(42, tags - 1)}"


def seed_icons() -> None:
    """Every other site has its icon (the list then links both kinds: ours and the default)."""
    from bookmarks.models import Favicon

    png = b"\x89PNG\r\n\x1a\n" + bytes(300)  # the list never reads the image, only the digest
    icons = [Favicon(host=f"site{i}.example.com", image=png, digest=f"{i:064x}") for i in range(0, 997, 2)]
    Favicon.objects.bulk_create(icons)


def plain_icontains(queryset, query: str):
    """The baseline: every term (phrase, word, tag, negation) as plain icontains scans."""
    from bookmarks.search import _scan_condition, _tag_condition, parse_query

    for term in parse_query(query):
        condition = _tag_condition(term.text) if term.tag else _scan_condition(term.text)
        queryset = queryset.exclude(condition) if term.exclude else queryset.filter(condition)
    return queryset


class QueryClock:
    """Sums the time of every query (a ``connection.execute_wrapper``), since DEBUG,
    which would log them in ``connection.queries``, is off as deployed."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204 (Django's wrapper signature)
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0


def timed(client, url: str, requests: int) -> tuple[float, float, float]:
    """p50 and p95 of the whole request, and p50 of its time inside the database (ms)."""
    from django.db import connection

    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples, in_db = [], []
    clock = QueryClock()
    with connection.execute_wrapper(clock):
        for _ in range(requests):
            clock.seconds = 0.0
            t0 = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            in_db.append(clock.seconds * 1000)
    samples.sort()
    # Nearest rank: the 48th of 50 samples.
    p95 = samples[math.ceil(len(samples) * 0.95) - 1]
    return statistics.median(samples), p95, statistics.median(in_db)


def run_backend(database_url: str, count: int, tags: int, others: int, requests: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "favsite.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # As deployed (DEBUG off: no query log, no template debug information), but
    # over plain HTTP through the test client.
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-only",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.template import engines
    from django.test import Client
    from django.test.utils import override_settings

    # Deployments serve collectstatic's hashed files; the bench has none, so
    # static URLs come unhashed (the same one-line work per URL), and
    # whitenoise's warning about the missing folder is beside the point.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()

    from bookmarks import search
    from bookmarks.models import Bookmark

    # No setup_test_environment(): its instrumented template rendering would be timed too.
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    big, tag = seed(count, tags, others, min(count, 1000))
    seed_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        # Fresh statistics (and, on PostgreSQL, the visibility map index-only scans need).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    total = Bookmark.objects.count()
    print(f"  seeded {total:,} bookmarks ({count:,} for one user) in {seed_s:.0f} s")
    loaders = ", ".join(type(loader).__module__ for loader in engines["django"].engine.template_loaders)
    print(f"  DEBUG={settings.DEBUG}, template loaders: {loaders}")

    client = Client()
    client.force_login(big)
    cases = [
        ("list page 1", "/bookmarks/", False),
        ("list page 1,000", "/bookmarks/?page=1000", False),
        (f"tag filter ?tag={tag}", f"/bookmarks/?tag={tag}", False),
        ("search English word", "/bookmarks/?q=kernel", True),
        ("search 2-char Chinese", "/bookmarks/?q=收藏", True),
        ("search 3-char Chinese", "/bookmarks/?q=数据库", True),
        ("search phrase", f'/bookmarks/?q="{PHRASE}"', True),
        ("search negation", "/bookmarks/?q=kernel+-linux", True),
        ("search two words", "/bookmarks/?q=python+guide", True),
        ("filter ?unread=1 (2 %)", "/bookmarks/?unread=1", False),
        ("filter ?private=1 (5 %)", "/bookmarks/?private=1", False),
        ("filter ?from=chat (25 %)", "/bookmarks/?from=chat", False),
        ("filter ?untagged=1", "/bookmarks/?untagged=1", False),
        ("sort ?sort=oldest", "/bookmarks/?sort=oldest", False),
        ("sort ?sort=title", "/bookmarks/?sort=title", False),
        ("sort ?sort=site", "/bookmarks/?sort=site", False),
        ("search + ?unread=1", "/bookmarks/?q=kernel&unread=1", False),
    ]
    print(f"  {'case':28} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>8}   {'icontains p50':>13} {'p95':>8} {'db p50':>8}")
    real_search = search.search_bookmarks
    for label, url, is_search in cases:
        p50, p95, db50 = timed(client, url, requests)
        line = f"  {label:28} {p50:8.1f} {p95:8.1f} {db50:8.1f}"
        if is_search:
            search.search_bookmarks = plain_icontains
            try:
                b50, b95, bdb50 = timed(client, url, requests)
            finally:
                search.search_bookmarks = real_search
            line += f"   {b50:13.1f} {b95:8.1f} {bdb50:8.1f}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=5000, help="the big user's tags")
    parser.add_argument("--others", type=int, default=10, help="other users, with 1,000 bookmarks each")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_backend(args.child, args.count, args.tags, args.others, args.requests)
        return
    sizes = ["--count", args.count, "--tags", args.tags, "--others", args.others, "--requests", args.requests]
    child = [sys.executable, __file__, *map(str, sizes), "--child"]
    with tempfile.TemporaryDirectory(prefix="favsite-bench-web-") as workdir:
        for label, url in backend_urls(args.backends, Path(workdir), "favsite_bench_web"):
            print(label)
            subprocess.run([*child, url], check=True)


if __name__ == "__main__":
    main()

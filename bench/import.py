"""Import/export benchmark: a 100,000-bookmark Netscape file, bulk import vs. row-by-row saves.

    .venv/bin/python bench/import.py                 # SQLite and PostgreSQL (when it answers)
    .venv/bin/python bench/import.py --count 20000 --backends sqlite
    .venv/bin/python bench/import.py --chinese 0.5   # half the titles and notes in Chinese

Each backend runs in a child process on a database of its own (a temporary
SQLite file; a scratch PostgreSQL database that is dropped afterwards), so the
numbers never touch a real collection. Figures:

- parse:  reading the file into entries (bookmarks.interchange.netscape);
- import: ``services.import_bookmarks`` for the whole file (parse included);
- export: ``export_bookmarks`` writing the whole collection back out;
- naive:  ``services.save_url`` one bookmark at a time, timed on the first
  ``--naive`` entries and extrapolated to the full count (a full run would
  take many minutes).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratchdb import backend_urls, delete_redis_keys

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "python",
    "django",
    "bookmark",
    "search",
    "tag",
    "web",
    "read",
    "later",
    "news",
    "rust",
    "go",
    "data",
    "cloud",
    "music",
    "art",
    "book",
    "film",
]
CHINESE = (  # noqa: SIM905 (readable as one string)
    "收藏 网址 新闻 技术 教程 笔记 设计 数据 音乐 电影 读书 旅行 美食 科学 历史 数据库 性能 安全 隐私 "
    "网络 浏览器 手机 评测 分析 周刊 播客 视频 采访 观点 创业 市场 金融 健康 体育 花园 菜谱 摄影 地图 城市"
).split()


def make_file(path: Path, count: int, chinese: float = 0.0) -> None:
    """``chinese``: the share of bookmarks with a Chinese title (and note), like ``bench/web.py``'s collection."""
    rng = random.Random(42)
    base = 1_500_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write('<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<META HTTP-EQUIV="Content-Type" CONTENT="text/html; ')
        out.write('charset=UTF-8">\n<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n')
        for i in range(count):
            if i % 1000 == 0:
                out.write(f"<DT><H3>Folder {i // 1000}</H3>\n<DL><p>\n")
            tags = ",".join(rng.sample(WORDS, rng.randint(0, 4)))
            stamp = base + i * 60
            if chinese and rng.random() < chinese:
                title = "".join(rng.choices(CHINESE, k=4)) + " " + " ".join(rng.choices(WORDS, k=2))
            else:
                title = " ".join(rng.choices(WORDS, k=6)).title()
            out.write(
                f'<DT><A HREF="https://site{i % 5000}.example.com/post/{i}?utm_source=x" ADD_DATE="{stamp}" '
                f'LAST_MODIFIED="{stamp + 30}" PRIVATE="{i % 7 == 0:d}" TOREAD="{i % 11 == 0:d}" '
                f'TAGS="{tags}">{title} #{i}</A>\n'
            )
            if i % 3 == 0:
                out.write(f"<DD>Notes about {title.lower()} &amp; more\n")
            if i % 1000 == 999 or i == count - 1:
                out.write("</DL><p>\n")
        out.write("</DL><p>\n")


def run_backend(database_url: str, file: Path, naive: int) -> None:
    """In the child: migrate the scratch database, then time everything."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "favsite.settings"
    # save_url queues a fetch per new row: keep those tasks under a key prefix
    # of our own (no worker reads it) and delete them afterwards.
    prefix = f"favsite-bench-{os.getpid()}:"
    os.environ["CELERY_KEY_PREFIX"] = prefix
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bookmarks import services
    from bookmarks.interchange import netscape
    from bookmarks.models import Bookmark

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    bulk_user = users.create_user("bulk")
    naive_user = users.create_user("naive")
    data = file.read_bytes()

    t0 = time.perf_counter()
    entries = netscape.parse(netscape.decode(data))
    parse_s = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    entries = netscape.parse(netscape.decode(data))
    result = services.import_bookmarks(bulk_user, entries)
    import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.created == len(entries), result

    t0, c0 = time.perf_counter(), time.process_time()
    again = services.import_bookmarks(bulk_user, netscape.parse(netscape.decode(data)))
    reimport_s, reimport_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert again.updated == len(entries), again

    out = file.parent / "export.html"
    t0, c0 = time.perf_counter(), time.process_time()
    call_command("export_bookmarks", user="bulk", output=str(out), stderr=open(os.devnull, "w"))  # noqa: SIM115
    export_s, export_cpu = time.perf_counter() - t0, time.process_time() - c0
    exported = out.read_text(encoding="utf-8").count("<DT><A ")
    assert exported == len(entries), exported

    subset = entries[:naive]
    t0, c0 = time.perf_counter(), time.process_time()
    for entry in subset:
        services.save_url(
            naive_user, entry.url, title=entry.title, tags=entry.tags, note=entry.note, added_at=entry.created_at
        )
    naive_s, naive_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert Bookmark.objects.filter(owner=naive_user).count() == len(subset)

    from django.conf import settings

    delete_redis_keys(settings.REDIS_URL, prefix)

    n = len(entries)
    naive_full = naive_s * n / len(subset)
    print(f"  bookmarks {n:,}; wall-clock seconds, with this process's CPU seconds in brackets")
    print(f"  parse only            {parse_s:7.2f} s")
    print(f"  import (bulk)         {import_s:7.2f} s  [{import_cpu:6.2f}]  {n / import_s:8,.0f} /s")
    print(f"  re-import (all known) {reimport_s:7.2f} s  [{reimport_cpu:6.2f}]  {n / reimport_s:8,.0f} /s")
    print(f"  export                {export_s:7.2f} s  [{export_cpu:6.2f}]  {n / export_s:8,.0f} /s")
    print(
        f"  naive save_url        {naive_s:7.2f} s  [{naive_cpu:6.2f}]  for {len(subset):,}; "
        f"x{n / len(subset):.0f} = {naive_full:.0f} s for {n:,} (extrapolated), "
        f"{naive_full / import_s:.0f}x the bulk import"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=2_000, help="entries saved one by one (then extrapolated)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--chinese",
        type=float,
        default=0.0,
        help="share of bookmarks with Chinese titles and notes (they feed PostgreSQL's bigram index)",
    )
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_backend(args.child[0], Path(args.child[1]), args.naive)
        return

    with tempfile.TemporaryDirectory(prefix="favsite-bench-") as tmp:
        workdir = Path(tmp)
        file = workdir / "bookmarks.html"
        make_file(file, args.count, args.chinese)
        print(f"file: {args.count:,} bookmarks, {args.chinese:.0%} Chinese, {file.stat().st_size / 1e6:.1f} MB")
        child = [sys.executable, __file__, "--naive", str(args.naive), "--child"]
        for label, url in backend_urls(args.backends, workdir, "favsite_bench"):
            print(label)
            subprocess.run([*child, url, str(file)], check=True)


if __name__ == "__main__":
    main()

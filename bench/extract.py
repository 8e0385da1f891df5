"""Extraction benchmark: our head-only extractor vs. BeautifulSoup on the whole page.

    .venv/bin/python bench/extract.py                  # 12 pages of ~100-400 KB, 30 rounds
    .venv/bin/python bench/extract.py --pages 20 --rounds 50

Pages are generated (realistic shapes: a head with meta tags, styles and
scripts, then a long body; a few with the title only in an <h1> deep in the
body, some in GBK or windows-1252) so the run needs no network. For each page
it times, in the same process and run:

- ours:     ``extract_metadata(text, url)`` (decoded text in, metadata out);
- ours+dec: ``decode_html(bytes)`` then ``extract_metadata`` (what the worker does);
- baseline: ``BeautifulSoup(whole_page, "html.parser")`` and its ``.title``.

Both extract the same title (checked). Prints per-page medians and the overall
median; the target is ours <= 2 ms per page and >= 5x faster than the baseline.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")

import django  # noqa: E402

django.setup()

from bs4 import BeautifulSoup  # noqa: E402

from bookmarks.fetching.metadata.decode import decode_html  # noqa: E402
from bookmarks.fetching.metadata.extract import extract_metadata  # noqa: E402

WORDS = [
    "bookmark",
    "page",
    "title",
    "python",
    "django",
    "celery",
    "redis",
    "search",
    "tag",
    "note",
    "read",
    "later",
    "web",
    "link",
    "收藏",
    "网址",
    "中文",
]


def make_page(index: int, rng: random.Random) -> tuple[bytes, str, str]:
    """(bytes, charset, expected title) of a page of 100 KB or more."""
    charset = ("utf-8", "utf-8", "gbk", "windows-1252")[index % 4]
    words = [w for w in WORDS if charset == "utf-8" or charset == "gbk" or w.isascii()]
    title = f"Page {index}: " + " ".join(rng.choice(words) for _ in range(8))
    title_in_head = index % 5 != 4  # every fifth page: no <title>, only an <h1> deep in the body
    head = [
        f'<meta charset="{charset}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="description" content="{" ".join(rng.choice(words) for _ in range(30))}">',
        f'<meta property="og:site_name" content="Site {index}">',
        '<link rel="icon" href="/favicon.png"><link rel="canonical" href="/article">',
        "<style>" + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}" for i in range(300)) + "</style>",
        "<script>" + "var data = [" + ",".join(str(rng.random()) for _ in range(400)) + "];</script>",
    ]
    if title_in_head:
        head.insert(1, f"<title>{title}</title>")
    paragraphs = []
    size = 0
    target = 100_000 + rng.randrange(300_000)
    while size < target:
        text = " ".join(rng.choice(words) for _ in range(60))
        para = f'<div class="c{rng.randrange(300)}"><p>{text} <a href="/x/{size}">link</a> <b>bold</b></p></div>\n'
        paragraphs.append(para)
        size += len(para.encode(charset, "replace"))
    h1 = f"<h1>{title}</h1>"
    if title_in_head:
        paragraphs.insert(0, h1)
    else:
        paragraphs.insert(len(paragraphs) // 3, h1)
    html = f"<!doctype html><html><head>{''.join(head)}</head><body>{''.join(paragraphs)}</body></html>"
    return html.encode(charset, "replace"), charset, title


def timed(function, rounds: int) -> tuple[float, object]:
    samples = []
    result = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--baseline-rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(3)
    pages = [make_page(i, rng) for i in range(args.pages)]
    print(f"{'page':>4} {'KB':>5} {'charset':>12} {'ours ms':>8} {'ours+dec':>9} {'bs4 ms':>8} {'x':>6}")
    ours_all, decode_all, base_all = [], [], []
    for index, (data, charset, title) in enumerate(pages):
        text = data.decode(charset)
        url = f"https://example.com/{index}"
        ours, found = timed(lambda t=text, u=url: extract_metadata(t, u), args.rounds)
        with_decoding, _ = timed(lambda d=data, u=url: extract_metadata(decode_html(d)[0], u), args.rounds)
        base, soup = timed(lambda t=text: BeautifulSoup(t, "html.parser"), args.baseline_rounds)
        baseline_title = soup.title.string if soup.title else soup.h1.get_text()
        assert found.title == title == baseline_title.strip(), (found.title, title, baseline_title)
        ours_all.append(ours)
        decode_all.append(with_decoding)
        base_all.append(base)
        print(
            f"{index:>4} {len(data) // 1024:>5} {charset:>12} {ours * 1e3:>8.3f} {with_decoding * 1e3:>9.3f} "
            f"{base * 1e3:>8.1f} {base / ours:>6.0f}"
        )
    ours_median, decode_median, base_median = map(statistics.median, (ours_all, decode_all, base_all))
    print(
        f"median per page: ours {ours_median * 1e3:.3f} ms, ours with decoding {decode_median * 1e3:.3f} ms, "
        f"BeautifulSoup(html.parser) {base_median * 1e3:.1f} ms; ours is {base_median / ours_median:.0f}x faster "
        f"({base_median / decode_median:.0f}x with decoding)"
    )


if __name__ == "__main__":
    main()

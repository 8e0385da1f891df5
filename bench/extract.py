"""Extraction benchmark: our head-only extractor vs. BeautifulSoup, and our reader vs. linkding's.

    .venv/bin/python bench/extract.py                  # 12 pages of ~100-400 KB + 1 script-first page, 30 rounds
    .venv/bin/python bench/extract.py --pages 20 --rounds 50 --piece 4096

Pages are generated (realistic shapes: a head with meta tags, styles and
scripts, then a long body; a few with the title only in an <h1> deep in the
body, some in GBK or windows-1252) so the run needs no network. One more page
has a 400 KB script in its head before the ``<title>`` (the reader's worst
case: nothing tells it to stop until the script has been read). For each page
it times, in the same process and run:

- ours:     ``extract_metadata(text, url)`` (decoded text in, metadata out);
- ours+dec: ``decode_html(bytes)`` then ``extract_metadata`` (what the worker does);
- baseline: ``BeautifulSoup(whole_page, "html.parser")`` and its ``.title``;
- read:     the page's bytes handed over in ``--piece``-byte pieces (what the
  socket gives) to the fetcher's reading loop, which stops once the head is
  complete, then decoded and extracted: the worker's CPU per page, network aside;
- linkding: the same pieces through linkding's ``load_page`` loop (append,
  stop once ``</head>`` has been read, cut there), decoded the same way, then
  ``BeautifulSoup(head, "html.parser").title``. It looks no further than the
  head, so on pages whose only title is an ``<h1>`` it finds none (not checked).

Extractors agree on the title (checked). Prints per-page medians and the
medians over pages; the extraction target is ours <= 2 ms per page and >= 5x
faster than the baseline.
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

from bookmarks.fetching.metadata import fetcher  # noqa: E402
from bookmarks.fetching.metadata.decode import decode_html  # noqa: E402
from bookmarks.fetching.metadata.extract import extract_metadata  # noqa: E402

LINKDING_MAX_CONTENT = 5000 * 1024  # linkding's MAX_CONTENT_LIMIT

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


def make_script_first_page(index: int, rng: random.Random) -> tuple[bytes, str, str]:
    """(bytes, charset, expected title) of a page whose head opens with a 400 KB script, then the title."""
    title = f"Page {index}: a 400 KB script before the title"
    script = "<script>var data = [" + ",".join(f"{rng.random():.15f}" for _ in range(400_000 // 18)) + "];</script>"
    head = f'<meta charset="utf-8">{script}<title>{title}</title><meta name="description" content="late title">'
    body = "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(60))}</p>\n" for _ in range(300))
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode(), "utf-8", title


class Pieces:
    """Stands in for a ``Response``: the page's bytes in fixed-size pieces, as a socket hands them over."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def iter_body(self, max_piece: int):
        step = min(self.size, max_piece)
        for start in range(0, len(self.data), step):
            yield self.data[start : start + step]


def read_ours(data: bytes, piece: int, url: str):
    """The worker's path: the fetcher's reading loop, then decoding and extraction of what it read."""
    body, complete = fetcher._read_head(Pieces(data, piece), 1024 * 1024)  # FETCH_MAX_BYTES' default
    return extract_metadata(decode_html(body, complete=complete)[0], url)


def read_linkding(data: bytes, piece: int) -> str:
    """linkding's ``load_page`` loop on the same pieces, our decoding, then BeautifulSoup's ``.title``."""
    content, size, complete = b"", 0, True
    for chunk in Pieces(data, piece).iter_body(piece):
        size += len(chunk)
        content += chunk
        if b"</head>" in content:
            content, complete = content.split(b"</head>")[0] + b"</head>", False
            break
        if size > LINKDING_MAX_CONTENT:
            complete = False
            break
    soup = BeautifulSoup(decode_html(content, complete=complete)[0], "html.parser")
    return soup.title.string.strip() if soup.title is not None and soup.title.string else ""


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
    parser.add_argument("--piece", type=int, default=16 * 1024, help="bytes per piece handed to the readers")
    args = parser.parse_args()
    rng = random.Random(3)
    pages = [make_page(i, rng) for i in range(args.pages)]
    pages.append(make_script_first_page(args.pages, rng))
    print(
        f"{'page':>4} {'KB':>5} {'charset':>12} {'ours ms':>8} {'ours+dec':>9} {'bs4 ms':>8} {'x':>6}"
        f" {'read ms':>8} {'linkding':>9} {'x':>6}"
    )
    columns: dict[str, list[float]] = {"ours": [], "dec": [], "bs4": [], "read": [], "linkding": []}
    for index, (data, charset, title) in enumerate(pages):
        times = measure_page(index, data, charset, title, args)
        for name, value in times.items():
            columns[name].append(value)
        print(
            f"{index:>4} {len(data) // 1024:>5} {charset:>12} {times['ours'] * 1e3:>8.3f} {times['dec'] * 1e3:>9.3f} "
            f"{times['bs4'] * 1e3:>8.1f} {times['bs4'] / times['ours']:>6.0f} {times['read'] * 1e3:>8.3f} "
            f"{times['linkding'] * 1e3:>9.3f} {times['linkding'] / times['read']:>6.2f}"
        )
    medians = {name: statistics.median(values) for name, values in columns.items()}
    print(
        f"median per page ({len(pages)} pages): ours {medians['ours'] * 1e3:.3f} ms, ours with decoding "
        f"{medians['dec'] * 1e3:.3f} ms, BeautifulSoup(html.parser) {medians['bs4'] * 1e3:.1f} ms; ours is "
        f"{medians['bs4'] / medians['ours']:.0f}x faster ({medians['bs4'] / medians['dec']:.0f}x with decoding)"
    )
    print(
        f"reading {args.piece}-byte pieces, median per page: ours {medians['read'] * 1e3:.3f} ms, linkding-style "
        f"{medians['linkding'] * 1e3:.3f} ms (linkding/ours {medians['linkding'] / medians['read']:.2f}); "
        f"400 KB script before the title: ours {columns['read'][-1] * 1e3:.3f} ms, linkding-style "
        f"{columns['linkding'][-1] * 1e3:.3f} ms (linkding/ours {columns['linkding'][-1] / columns['read'][-1]:.2f})"
    )


def measure_page(index: int, data: bytes, charset: str, title: str, args: argparse.Namespace) -> dict[str, float]:
    """Median seconds per extractor on one page, after checking that they agree on the title."""
    text = data.decode(charset)
    url = f"https://example.com/{index}"
    ours, found = timed(lambda: extract_metadata(text, url), args.rounds)
    with_decoding, _ = timed(lambda: extract_metadata(decode_html(data)[0], url), args.rounds)
    base, soup = timed(lambda: BeautifulSoup(text, "html.parser"), args.baseline_rounds)
    read, read_found = timed(lambda: read_ours(data, args.piece, url), args.rounds)
    linkding, linkding_title = timed(lambda: read_linkding(data, args.piece), args.rounds)
    baseline_title = soup.title.string if soup.title else soup.h1.get_text()
    assert found.title == read_found.title == title == baseline_title.strip(), (found.title, title, baseline_title)
    assert linkding_title in (title, ""), (linkding_title, title)
    return {"ours": ours, "dec": with_decoding, "bs4": base, "read": read, "linkding": linkding}


if __name__ == "__main__":
    main()

"""When the fetcher stops reading: the head check, piece by piece, and the work it does."""

from __future__ import annotations

import re

import pytest

from bookmarks.fetching.metadata import fetch_page_metadata, fetcher
from bookmarks.fetching.metadata.extract import HeadScanner, extract_metadata

PIECE = 16 * 1024


def whole_buffer_answer(data: bytes) -> bool:
    """The rule as one search over everything read (what the scanner must agree with)."""
    head_end = re.search(rb"</head\s*>", data, re.I)
    if head_end and re.search(rb"<title|og:title|twitter:title", data[: head_end.start()], re.I):
        return True
    return re.search(rb"</h1\s*>", data, re.I) is not None


def script_first_page(script_bytes: int = 400_000) -> bytes:
    script = b"<script>var data = [" + b"0.123456789," * (script_bytes // 12) + b"0];</script>"
    return b"<!doctype html><html><head>" + script + b"<title>Late</title></head><body>" + b"<p>x</p>" * 5000


def feed_in_pieces(scanner: HeadScanner, page: bytes, piece: int) -> list[bool]:
    """The scanner's answer after each piece, given the growing buffer as the fetcher does."""
    body = bytearray()
    answers = []
    for start in range(0, len(page), piece):
        body += page[start : start + piece]
        answers.append(scanner.update(body))
    return answers


def test_a_400_kb_script_before_the_title_is_searched_about_once():
    page = script_first_page()
    head = page[: page.index(b"</head>") + len(b"</head>")]
    scanner = HeadScanner()
    answers = feed_in_pieces(scanner, head, PIECE)
    assert answers[-1] is True and not any(answers[:-1])
    # Three searches (end of head, title, end of h1) over each byte, give or take a
    # few bytes per piece. Searching the whole buffer after every piece examines about
    # 26 times the head here.
    assert scanner.examined <= 4 * len(head)


def test_spaces_before_the_closing_bracket_are_not_searched_again_per_piece():
    page = b"<html><head><title>T</title></head" + b" " * 200_000 + b"><body>"
    scanner = HeadScanner()
    answers = feed_in_pieces(scanner, page, 1024)
    assert answers[-1] is True and not any(answers[:-1])
    assert scanner.examined <= 4 * len(page)


PAGES = [
    b"<html><head><title>T</title></head><body><h1>H</h1></body></html>",
    b"<html><HEAD><TITLE>T</TITLE></HEAD \n\t><body>",
    b"<html><head><meta property='og:title' content='T'></head  ><p>",
    b"<html><head><meta name='twitter:title' content='T'></head\r\n>",
    b"<html><head><meta charset=utf-8></head><body><p>a</p><h1>H</H1 >more",
    b"<html><head></head><body><title>late</title><h1>H</h1>",
    b"<html><head><script>'</head>'</script><title>T</title></head><body>",
    b"<html><head><script>'<title>'</script></head><body>",
    b"<html><head><!-- </head> --><title>T</title></head><h1>H</h1>",
    b"<html><head><title>T</title></head x></head><h1>",
    b"<html><head><title>T</title></headline></head>",
    b"<html><head><title>T</title></h1x></h1 ><p>",
    b"<title>T</title></he",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("piece", [1, 2, 3, 5, 7, 13, 64])
def test_the_answer_after_each_piece_is_the_whole_buffer_answer(page, piece):
    scanner = HeadScanner()
    body = bytearray()
    for start in range(0, len(page), piece):
        body += page[start : start + piece]
        assert scanner.update(body) == whole_buffer_answer(bytes(body)), bytes(body)


def test_a_dotless_i_lookalike_of_title_leaves_the_h1_to_the_extractor():
    # The reader, matching bytes, does not take "<tıtle" for a title and reads on
    # to the <h1>; extraction must not stop at </head> either.
    html = "<html><head><tıtle>Fake</tıtle></head><body><h1>Real</h1></body></html>"
    assert HeadScanner().update(html.encode()) is True
    assert extract_metadata(html, "https://example.com/").title == "Real"


def test_the_fetcher_searches_a_long_head_about_once(page_server, monkeypatch):
    scanners: list[HeadScanner] = []

    class RecordedScanner(HeadScanner):
        def __init__(self) -> None:
            super().__init__()
            scanners.append(self)

    monkeypatch.setattr(fetcher, "HeadScanner", RecordedScanner)
    page = script_first_page()
    url = page_server.route("/", page, headers={"Content-Type": "text/html; charset=utf-8"})
    assert fetch_page_metadata(url, timeout=10).title == "Late"
    assert len(scanners) == 1
    assert scanners[0].examined <= 4 * len(page)

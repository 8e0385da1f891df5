"""Reading chat messages: the URL extractor against linkify-it's fixtures, tags, notes, commands.

The fixtures (../shared/conformance/url/, MIT, markdown-it/linkify-it) list
inputs, each followed by the link expected in it (or alone when the whole
line is the link). favsite saves only schemed http(s) links, so:

- links.txt lines whose expected link starts with http:// or https:// must
  yield exactly that link first (trailing punctuation, brackets, quotes, <>);
- its other lines (bare domains, e-mail, mailto:, ftp:, //host) must yield no
  http(s) link at all;
- every not_links.txt line must yield no http(s) link.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imgateway.parsing import Command, Save, extract_urls, parse_message

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "url"


def _fixture_lines(name: str) -> list[str]:
    path = CONFORMANCE / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    # A " % comment" after an input is linkify-it's annotation, not part of it.
    return [re.sub(r"\s+%.*$", "", line.rstrip("\n")) for line in path.read_text(encoding="utf-8").splitlines()]


def link_cases() -> list[tuple[str, str]]:
    lines, cases, i = _fixture_lines("linkify-it-links.txt"), [], 0
    while i < len(lines):
        line = lines[i]
        if not line or line.startswith("%"):
            i += 1
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following and not following.startswith("%"):
            cases.append((line, following))
            i += 2
        else:
            cases.append((line, line))
            i += 1
    return cases


def not_link_cases() -> list[str]:
    return [line for line in _fixture_lines("linkify-it-not_links.txt") if line and not line.startswith("%")]


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def test_every_schemed_http_link_in_the_fixture_is_found_exactly():
    cases = [(text, expected) for text, expected in link_cases() if _is_http(expected)]
    assert len(cases) > 60
    wrong = [(text, expected, extract_urls(text).urls) for text, expected in cases]
    assert [w for w in wrong if w[2][:1] != [w[1]]] == []


def test_fixture_lines_without_a_schemed_http_link_yield_none():
    cases = [text for text, expected in link_cases() if not _is_http(expected)]
    assert [(text, extract_urls(text).urls) for text in cases if extract_urls(text).urls] == []


def test_no_line_of_the_not_links_fixture_yields_a_link():
    cases = not_link_cases()
    assert len(cases) > 30
    assert [(text, extract_urls(text).urls) for text in cases if extract_urls(text).urls] == []


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("看这个https://example.com/文章，很好", "https://example.com/文章"),
        ("（https://example.com/a）", "https://example.com/a"),
        ("「https://example.com/a」", "https://example.com/a"),
        ('he said "https://example.com/a".', "https://example.com/a"),
    ],
)
def test_chinese_punctuation_ends_a_link(text, url):
    assert extract_urls(text).urls == [url]


def test_a_repeated_link_is_saved_once():
    assert extract_urls("https://a.example https://a.example").urls == ["https://a.example"]


def test_tags_and_note_are_separated_from_links():
    parsed = parse_message("#python great read https://example.com/post#frag #异步 编程")
    assert isinstance(parsed, Save)
    assert parsed.urls == ["https://example.com/post#frag"]
    assert parsed.tags == ["python", "异步"]
    assert parsed.note == "great read 编程"


def test_a_link_in_another_scheme_is_refused_by_name():
    parsed = parse_message("ftp://files.example/a javascript://x")
    assert isinstance(parsed, Save)
    assert parsed.urls == [] and parsed.refused == ["ftp://files.example/a", "javascript://x"]


def test_a_message_starting_with_a_command_word_and_a_link_is_a_save():
    assert isinstance(parse_message("help me read https://example.com"), Save)


def test_a_slash_command_wins_over_links():
    parsed = parse_message("/find https://example.com")
    assert isinstance(parsed, Command) and parsed.name == "find" and parsed.args == "https://example.com"


@pytest.mark.parametrize(
    ("body", "name", "args"),
    [
        ("HELP", "help", ""),
        ("／帮助", "help", ""),
        ("link  ab12 cd34", "link", "ab12 cd34"),
        ("Recent 7", "recent", "7"),
        ("最近", "recent", ""),
        ("搜索 收藏", "find", "收藏"),
        ("/del 12", "del", "12"),
        ("撤销", "undo", ""),
        ("解绑", "unlink", ""),
        ("标签", "tags", ""),
        ("hello", "unknown", ""),
    ],
)
def test_commands_and_aliases(body, name, args):
    parsed = parse_message(body)
    assert isinstance(parsed, Command)
    assert (parsed.name, parsed.args) == (name, args)

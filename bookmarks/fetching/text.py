"""The readable text of a page: fetched under the fetcher's policy, extracted with trafilatura.

``fetch_page_text(url)`` never raises for network trouble. It reads the body
up to ``FETCH_MAX_BODY_BYTES`` (decompressed) within ``FETCH_TIMEOUT`` for the
whole exchange, redirects included, decodes it as the title fetch does
(``metadata.decode``), and keeps:

- HTML: the main text as trafilatura extracts it (navigation, sidebars,
  comments, scripts and styles left out), one paragraph per line;
- ``text/plain``: the text itself;
- anything else (PDF, images, ...): nothing; the body is not read.

Why trafilatura, not readability-lxml (compared on the pages of
``tests/fixtures/articles.py``, English and Chinese in UTF-8 and GBK, both
found the article): trafilatura returns plain text with its paragraphs
(``<p>`` and ``<br>`` breaks) and leaves comment threads out, where
readability-lxml returns HTML to be flattened by us, ran ``<br>`` lines
together and kept navigation links. See README, "What is kept".
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings

from bookmarks.fetching.metadata.client import FetchError, Response, Timeout
from bookmarks.fetching.metadata.decode import decode_html
from bookmarks.fetching.metadata.policy import Blocked
from bookmarks.fetching.pages import open_page

__all__ = ["TEXT_MAX_CHARS", "PageText", "count_words", "extract_text", "fetch_page_text"]

# Kept at most (characters); a longer text is cut at a paragraph end before this.
TEXT_MAX_CHARS = 300_000
_HTML_TYPES = {"", "text/html", "application/xhtml+xml"}
_HTML_LANG_RE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)", re.I)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_WORD_RE = re.compile(r"[^\W\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")


@dataclass
class PageText:
    """What one text fetch found. ``kind``: ``text`` (``text`` holds it), ``empty``, ``not_text`` or ``failed``."""

    url: str
    final_url: str = ""
    kind: str = "failed"
    text: str = ""
    language: str = ""
    word_count: int = 0
    content_type: str = ""
    http_status: int | None = None
    error: str = ""
    retryable: bool = field(default=False, compare=False)


def fetch_page_text(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> PageText:
    """Fetch ``url`` under the address policy and keep its readable text (see the module docstring)."""
    timeout = settings.FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = settings.FETCH_MAX_BODY_BYTES if max_bytes is None else max_bytes
    result = PageText(url=url, final_url=url)
    try:
        opened = open_page(url, time.monotonic() + timeout)
    except Blocked as error:
        result.error = str(error)
        return result
    except FetchError as error:
        result.error, result.retryable = str(error), error.retryable
        return result
    try:
        result.final_url = opened.final_url
        return _read_text(result, opened.response, max_bytes)
    except FetchError as error:
        result.kind, result.error, result.retryable = "failed", str(error), error.retryable
        return result
    finally:
        opened.response.close()


def _read_text(result: PageText, response: Response, max_bytes: int) -> PageText:
    result.http_status, result.content_type = response.status, response.content_type
    if response.status >= 300:
        result.error = f"HTTP {response.status}"
        result.retryable = response.status >= 500 or response.status in (408, 429)
        return result
    if response.content_type not in _HTML_TYPES and response.content_type != "text/plain":
        result.kind = "not_text"  # a PDF, an image...: its body is not read
        return result
    body, complete = _read_body(response, max_bytes)
    decoded, _codec = decode_html(body, response.charset, complete=complete)
    if response.content_type == "text/plain":
        text, language = _clean(decoded), ""
    else:
        text, language = extract_text(decoded, result.final_url)
    result.text = _cap(text)
    result.kind = "text" if result.text else "empty"
    result.language = language or guess_language(result.text)
    result.word_count = count_words(result.text)
    return result


def _read_body(response: Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body up to ``max_bytes`` (what came before a deadline is kept); and whether it ended there."""
    body = bytearray()
    try:
        for piece in response.iter_body(max_piece=min(65536, max_bytes + 1)):
            body += piece
            if len(body) >= max_bytes:
                return bytes(body[:max_bytes]), False
    except Timeout:
        if not body:
            raise
        return bytes(body), False
    return bytes(body), True


def extract_text(html: str, url: str = "") -> tuple[str, str]:
    """The main text of an HTML page, one paragraph per line, and the language its ``<html lang>`` names."""
    # Loaded here: trafilatura's import takes a while and only the worker needs it.
    import trafilatura

    text = trafilatura.extract(html, url=url or None, include_comments=False, include_tables=True, fast=False)
    match = _HTML_LANG_RE.search(html[:4096])
    return _clean(text or ""), (match.group(1) if match else "")


def guess_language(text: str) -> str:
    """A language from the script of a text's first few thousand characters: ``zh``, ``ja``, ``ko`` or ''."""
    sample = text[:5000]
    if not sample:
        return ""
    if len(_KANA_RE.findall(sample)) > 20:
        return "ja"
    if len(_HANGUL_RE.findall(sample)) > 20:
        return "ko"
    return "zh" if len(_CJK_RE.findall(sample)) * 4 > len(sample) else ""


def count_words(text: str) -> int:
    """Words separated by spaces, plus one per Chinese or Japanese character (those scripts use no spaces)."""
    return len(_WORD_RE.findall(text)) + len(_CJK_RE.findall(text)) + len(_KANA_RE.findall(text))


def _clean(text: str) -> str:
    """Normalized (NFC), control characters dropped, runs of blank lines made one line break."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = (" ".join(line.split()) for line in _BLANK_LINES_RE.sub("\n", text).split("\n"))
    return "\n".join(line for line in lines if line)


def _cap(text: str) -> str:
    if len(text) <= TEXT_MAX_CHARS:
        return text
    cut = text.rfind("\n", 0, TEXT_MAX_CHARS)
    return text[: cut if cut > 0 else TEXT_MAX_CHARS]

"""Where a search matched, and a short excerpt of the kept page text around the match.

A bookmark found by a search either holds every searched word in its title,
URL, note or description, or some word only in its page's text. For the
second kind the list shows "in the page's text" and a few dozen characters
around the first such word, with every searched word marked. The database
cuts the excerpt out (``StrIndex``/``Substr``), so a page of results reads
a few hundred characters per bookmark, never whole texts. Excerpts are plain
text split into pieces; the template escapes each piece and wraps the
matched ones in ``<mark>``: page text never reaches the page as HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr

from bookmarks.models import Bookmark, PageText
from bookmarks.search import SEARCH_FIELDS, parse_query, searches_text

__all__ = ["Excerpt", "text_excerpts"]

# Characters read before the match, and in all; then cut to about this many columns before the
# match, and in all (a Chinese character takes two).
BEFORE = 60
LENGTH = 200
COLUMNS_BEFORE = 60
COLUMNS = 220


@dataclass(frozen=True)
class Excerpt:
    """A piece of page text: ``parts`` are (text, matched) in order; ``cut_before``/``cut_after`` say "…"."""

    parts: list[tuple[str, bool]]
    cut_before: bool
    cut_after: bool


def text_excerpts(bookmarks: Iterable[Bookmark], query: str) -> dict[int, Excerpt]:
    """The excerpt of each bookmark that ``query`` found by its page text (one query per distinct word)."""
    if not searches_text(query):
        return {}
    words = [term.text for term in parse_query(query) if term.word and not term.exclude]
    wanted: dict[str, list[int]] = {}
    for bookmark in bookmarks:
        fields = "\n".join(str(getattr(bookmark, name)) for name in SEARCH_FIELDS).lower()
        missing = next((word for word in words if word.lower() not in fields), None)
        if missing is not None:
            wanted.setdefault(missing, []).append(bookmark.pk)
    pattern = _highlighter(words)
    excerpts: dict[int, Excerpt] = {}
    for word, ids in wanted.items():
        for bookmark_id, piece, start in _pieces(word, ids):
            more = len(piece) > LENGTH  # one character past the piece was read: the text goes on
            piece, cut_before, cut_after = _fit(" ".join(piece[:LENGTH].split()), word, start > 1, more)
            excerpts[bookmark_id] = Excerpt(_split(piece, pattern), cut_before, cut_after)
    return excerpts


def _pieces(word: str, ids: list[int]) -> list[tuple[int, str, int]]:
    """(bookmark id, the text around ``word``'s first place and one character more, where it starts (1-based)).

    The extra character says whether the text goes on, without its length
    (PostgreSQL would read and decompress the whole text once more for it).
    """
    found = (
        PageText.objects.filter(bookmark_id__in=ids, state=PageText.State.KEPT)
        .annotate(at=StrIndex(Lower("text"), Value(word.lower())))
        .filter(at__gt=0)
        .annotate(start=Greatest(F("at") - BEFORE, Value(1)))
        .annotate(piece=Substr("text", F("start"), LENGTH + 1))
    )
    return list(found.values_list("bookmark_id", "piece", "start"))


def _fit(piece: str, word: str, cut_before: bool, cut_after: bool) -> tuple[str, bool, bool]:
    """The piece cut to ``COLUMNS`` around ``word`` (wide characters count two); a word cut at the start dropped."""
    at = max(piece.lower().find(word.lower()), 0)
    begin, columns = at, 0
    while begin > 0 and columns < COLUMNS_BEFORE:
        begin -= 1
        columns += _width(piece[begin])
    end, columns = begin, 0
    while end < len(piece) and columns < COLUMNS:
        columns += _width(piece[end])
        end += 1
    cut_before, cut_after = cut_before or begin > 0, cut_after or end < len(piece)
    piece = piece[begin:end]
    if cut_before and " " in piece[: max(at - begin, 0)][:20]:
        piece = piece.split(" ", 1)[1]  # no half word at the start (Chinese has no spaces to find one)
    return piece, cut_before, cut_after


def _width(character: str) -> int:
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def _highlighter(words: list[str]) -> re.Pattern[str]:
    longest_first = sorted({word for word in words if word}, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in longest_first), re.IGNORECASE)


def _split(piece: str, pattern: re.Pattern[str]) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in pattern.finditer(piece):
        if match.start() > position:
            parts.append((piece[position : match.start()], False))
        parts.append((match.group(0), True))
        position = match.end()
    if position < len(piece):
        parts.append((piece[position:], False))
    return parts

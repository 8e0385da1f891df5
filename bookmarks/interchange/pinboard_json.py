"""Pinboard's JSON export (``posts/all?format=json``): a list of posts.

Each post: ``href``, ``description`` (the title), ``extended`` (the person's
notes), ``time`` (ISO 8601, UTC), ``shared`` / ``toread`` (``"yes"``/``"no"``),
``tags`` (space-separated), ``hash``, ``meta``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from bookmarks.interchange.entries import BookmarkEntry, tag_name


def parse(text: str) -> list[BookmarkEntry]:
    return list(parse_stream([text]))


def parse_stream(pieces: Iterable[str]) -> Iterator[BookmarkEntry]:
    """The posts of a JSON list read as pieces of text, one post decoded at a time.

    ``ValueError`` (``json.JSONDecodeError``) for text that is not JSON, ``TypeError`` for JSON
    that is not a list.
    """
    reader = _ListReader(iter(pieces))
    for post in reader.items():
        if isinstance(post, dict) and post.get("href"):
            yield _entry(post)


class _ListReader:
    """A JSON list's items, decoded one by one from a buffer that holds the text not read yet."""

    def __init__(self, pieces: Iterator[str]):
        self.pieces = pieces
        self.buffer = ""
        self.pos = 0
        self.ended = False
        self.decoder = json.JSONDecoder()

    def items(self) -> Iterator[object]:
        if self._next_char() != "[":
            if self._next_char() == "":
                raise json.JSONDecodeError("Expecting value", self.buffer, self.pos)
            raise TypeError("expected a list of posts")
        self.pos += 1
        first = True
        while True:
            char = self._next_char()
            if char == "]":
                self.pos += 1
                break
            if not first:
                if char != ",":
                    raise json.JSONDecodeError("Expecting ',' delimiter", self.buffer, self.pos)
                self.pos += 1
                self._next_char()
            first = False
            yield self._value()
        if self._next_char() != "":
            raise json.JSONDecodeError("Extra data", self.buffer, self.pos)

    def _value(self) -> object:
        """The value at ``pos``; read on while it may continue past the buffer's end (``12`` of ``123``)."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError:
                if self._read_more():
                    continue
                raise
            if end < len(self.buffer) or not self._read_more():
                self.pos = end
                return value

    def _next_char(self) -> str:
        """The next character that is not white space, reading on as needed ("" at the end)."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._read_more():
                return ""

    def _read_more(self) -> bool:
        piece = next(self.pieces, None)
        if piece is None:
            return False
        self.buffer = self.buffer[self.pos :] + piece
        self.pos = 0
        return True


def _entry(post: dict) -> BookmarkEntry:
    entry = BookmarkEntry(
        url=str(post["href"]),
        title=str(post.get("description") or ""),
        note=str(post.get("extended") or ""),
        tags=[name for name in (tag_name(piece) for piece in str(post.get("tags") or "").split()) if name],
        is_private=str(post.get("shared", "yes")).lower() == "no",
        unread=str(post.get("toread", "no")).lower() == "yes",
    )
    raw_time = str(post.get("time") or "")
    if raw_time:
        try:
            entry.created_at = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
        except ValueError:
            entry.warnings.append(f"time={raw_time!r} is not a date; used the import time")
    return entry

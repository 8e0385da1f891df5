"""Reading an uploaded or given bookmark file, whatever its format, a piece at a time.

A file is read twice, never held whole: the first reading chooses the
encoding (the one ``netscape.decode`` would choose for the whole file), tells
the format and counts the bookmarks, so a file that cannot be read fails before
anything is saved; the second hands the bookmarks over as they are parsed.
"""

from __future__ import annotations

import codecs
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bookmarks.interchange import netscape, pinboard_json
from bookmarks.interchange.entries import BookmarkEntry

# Bytes read from a file on disk at a time.
READ_BYTES = 1024 * 1024
_CHARSET_SNIFF_BYTES = 4096


class UnreadableFile(ValueError):
    """The file is neither Netscape bookmark HTML nor a Pinboard JSON export."""


class BookmarkFile:
    """A bookmark file given as a way to read its bytes again from the start, piece by piece."""

    def __init__(self, chunks: Callable[[], Iterable[bytes]]):
        self.chunks = chunks
        self.encoding = "utf-8"
        self.errors = "strict"
        self.is_json = False

    def check(self) -> int:
        """Read it once: choose the encoding and format; how many bookmarks it holds. ``UnreadableFile``."""
        head = b""
        for chunk in self.chunks():
            head += chunk[: _CHARSET_SNIFF_BYTES - len(head)]
            if len(head) >= _CHARSET_SNIFF_BYTES:
                break
        for encoding, errors in _candidate_encodings(head):
            self.encoding, self.errors = encoding, errors
            try:
                return sum(1 for _entry in self.entries())
            except UnicodeDecodeError:
                continue
        raise AssertionError("cp1252 with errors='replace' decodes anything")

    def entries(self) -> Iterator[BookmarkEntry]:
        """The bookmarks, parsed as the file is read (``check`` first)."""
        text = self._text()
        first = next(text, "")
        stripped = first.lstrip()
        while not stripped:
            piece = next(text, None)
            if piece is None:
                break
            first += piece
            stripped = first.lstrip()
        pieces = _chain(first, text)
        if stripped[:1] != "[":
            yield from netscape.parse_stream(pieces)
            return
        try:
            yield from pinboard_json.parse_stream(pieces)
        except (json.JSONDecodeError, TypeError, AttributeError) as exc:
            raise UnreadableFile(f"This looks like JSON but is not a Pinboard export: {exc}") from None

    def _text(self) -> Iterator[str]:
        # utf-8-sig and utf-16 drop the byte order mark themselves.
        decoder = codecs.getincrementaldecoder(self.encoding)(errors=self.errors)
        for chunk in self.chunks():
            piece = decoder.decode(chunk)
            if piece:
                yield piece
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def _candidate_encodings(head: bytes) -> list[tuple[str, str]]:
    """BOM first, then a declared charset, then UTF-8, then Windows-1252 (``netscape.decode``'s order)."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, encoding in boms:
        if head.startswith(bom):
            return [(encoding, "replace")]
    candidates = []
    declared = netscape.declared_charset(head)
    if declared:
        with contextlib.suppress(LookupError):  # a name Python does not know: the next candidates
            candidates.append((codecs.lookup(declared).name, "strict"))
    candidates += [("utf-8", "strict"), ("cp1252", "replace")]
    return candidates


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def file_chunks(path: Path) -> Callable[[], Iterator[bytes]]:
    """``BookmarkFile``'s reader for a file on disk. ``OSError`` when it cannot be read."""

    def read() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_BYTES):
                yield chunk

    path.open("rb").close()  # fail here, with the path in the message, rather than mid-import
    return read


def read_bookmark_file(data: bytes) -> list[BookmarkEntry]:
    """Entries from Netscape HTML or Pinboard JSON held in memory (small files, tests)."""
    file = BookmarkFile(lambda: [data])
    file.check()
    return list(file.entries())

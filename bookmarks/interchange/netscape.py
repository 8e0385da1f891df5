"""Netscape bookmark files (what browsers, Pinboard, Delicious, linkding and Shaarli export).

Reading is a tolerant tag scanner, not an HTML parser: real files leave ``</A>``
open, drop the root ``<DL>``, write tags in lower case, put newlines inside
attribute values and raw HTML inside ``<DD>``. The rules:

1. An ``<A HREF>`` outside a ``<DD>`` is a bookmark; its title runs to ``</A>``
   or the next structural tag (``<DT>``, ``<DD>``, ``<DL>``, ``<H3>``, ``<HR>``).
2. A ``<DD>`` holds raw text up to the next structural tag; it belongs to the
   bookmark just read (a folder's ``<DD>`` is dropped). Markup inside it is text.
3. ``<H3>`` names a folder; the next ``<DL>`` opens it, ``</DL>`` closes it.
4. Dates are seconds, milliseconds or microseconds since 1970 (Google and
   linkding write the last two); a few textual forms are read too. A date that
   cannot be read is replaced by the import time, with a warning, rather than
   losing the bookmark.

Writing follows the Netscape layout that Firefox and Chrome read back.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from bookmarks.interchange.entries import BookmarkEntry, tag_name

_TOKEN_RE = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9_]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
_ATTR_RE = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?", re.S)
_CHARSET_RE = re.compile(rb"charset\s*=\s*[\"']?([a-zA-Z0-9_.:\-]+)", re.I)
# Tags that end a title or a <DD> that was never closed.
_STRUCTURAL = frozenset({"dt", "dd", "dl", "h3", "hr", "body", "html"})
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Text scanned at a time by parse_stream (the segment grows past it only to reach a <DT>).
SEGMENT_CHARS = 1024 * 1024
_TEXT_DATE_FORMATS = ("%d/%b/%Y:%H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d")


def decode(data: bytes) -> str:
    """The file's text: BOM first, then a declared charset, then UTF-8, then Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    candidates = []
    declared = declared_charset(data[:4096])
    if declared:
        candidates.append(declared)
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def declared_charset(head: bytes) -> str | None:
    """The charset a file's first bytes name (``<META ... charset=...>``), if any."""
    declared = _CHARSET_RE.search(head)
    return declared.group(1).decode("ascii") if declared else None


def parse(text: str, *, now: datetime | None = None) -> list[BookmarkEntry]:
    """Every ``<A HREF>`` bookmark in ``text``, in file order (see the module docstring)."""
    return list(parse_stream([text], now=now))


def parse_stream(
    pieces: Iterable[str], *, now: datetime | None = None, segment_chars: int = SEGMENT_CHARS
) -> Iterator[BookmarkEntry]:
    """The bookmarks of a file read as pieces of text, holding about ``segment_chars`` at a time.

    The text is scanned in segments cut just before a ``<DT>``, which ends
    whatever title, folder name or description came before it; the text after
    a segment's last tag is carried into the next. Hazard: a ``<DT>`` inside a
    comment or a quoted attribute at a cut would be read as a tag.
    """
    scanner = _Scanner(now or datetime.now(UTC))
    buffer = ""
    started = False
    for piece in pieces:
        if not started:
            piece = piece.lstrip("\ufeff")
            started = bool(piece)
        buffer += piece
        if len(buffer) < segment_chars:
            continue
        cut = _last_cut(buffer)
        if cut > 0:
            yield from scanner.feed(buffer[:cut])
            buffer = scanner.carry + buffer[cut:]
    yield from scanner.feed(buffer, final=True)


def _last_cut(text: str) -> int:
    """Where the last ``<DT>`` of ``text`` starts (0: none past the start)."""
    lowered = text.lower()
    found = max(lowered.rfind(f"<dt{after}") for after in ">\n\r\t ")
    return max(found, 0)


class _Scanner:
    """The tag scanner; its state carries from one segment to the next."""

    def __init__(self, now: datetime):
        self.now = now
        self.folders: list[str | None] = []
        self.pending_folder: str | None = None
        self.last: BookmarkEntry | None = None  # the bookmark a <DD> would describe
        self.entry: BookmarkEntry | None = None  # a bookmark whose title is being read
        self.title_parts: list[str] = []
        self.folder_parts: list[str] | None = None
        self.dd_start: int | None = None  # where an open <DD>'s text starts in the segment
        self.dd_owner: BookmarkEntry | None = None
        # Bookmarks read whole but handed over only when no <DD> can describe them any more.
        self.ready: list[BookmarkEntry] = []
        self.carry = ""  # the segment's text after its last tag (or its open <DD>)

    def feed(self, text: str, *, final: bool = False) -> Iterator[BookmarkEntry]:
        pos = 0
        for match in _TOKEN_RE.finditer(text):
            between = text[pos : match.start()]
            pos = match.end()
            self._token(text, match, between)
            while self.ready and self.ready[0] is not self.last and self.ready[0] is not self.dd_owner:
                yield self.ready.pop(0)
        if not final:
            self.carry = text[pos:] if self.dd_start is None else text[self.dd_start :]
            if self.dd_start is not None:
                self.dd_start = 0
            return
        if self.entry is not None:
            self.title_parts.append(text[pos:])
            self.entry.title = _collapse(html.unescape("".join(self.title_parts)))
            self.ready.append(self.entry)
        elif self.dd_start is not None and self.dd_owner is not None:
            self.dd_owner.note = html.unescape(text[self.dd_start :]).strip()
        yield from self.ready

    def _token(self, text: str, match: re.Match, between: str) -> None:
        name = (match.group(2) or "").lower()
        closing = match.group(1) == "/"
        if self.dd_start is not None:
            if name not in _STRUCTURAL or (closing and name == "dd"):
                return  # markup inside a description is part of its text
            if self.dd_owner is not None:
                self.dd_owner.note = html.unescape(text[self.dd_start : match.start()]).strip()
            self.dd_start = self.dd_owner = None
        if self.entry is not None:
            self.title_parts.append(between)
            if name == "a" and closing or name in _STRUCTURAL:
                self.entry.title = _collapse(html.unescape("".join(self.title_parts)))
                self.last = self.entry
                self.ready.append(self.entry)
                self.entry, self.title_parts = None, []
            if name == "a":
                return
        elif self.folder_parts is not None:
            self.folder_parts.append(between)
            if name == "h3" and closing or name in _STRUCTURAL:
                self.pending_folder = _collapse(html.unescape("".join(self.folder_parts)))
                self.folder_parts = None
            if name == "h3" and closing:
                return
        if name:  # else a comment
            self._open(name, closing, match)

    def _open(self, name: str, closing: bool, match: re.Match) -> None:
        if name == "a" and not closing:
            attrs = _attributes(match.group(3))
            if "href" in attrs:
                self.entry, self.title_parts = self._entry(attrs), []
        elif name == "h3" and not closing:
            self.folder_parts, self.pending_folder, self.last = [], None, None
        elif name == "dd" and not closing:
            self.dd_start, self.dd_owner, self.last = match.end(), self.last, None
        elif name in ("dl", "dt"):
            self._list_tag(name, closing)

    def _list_tag(self, name: str, closing: bool) -> None:
        """``<DL>`` opens the folder just named, ``</DL>`` closes one; neither is described by a ``<DD>``."""
        if name == "dl" and closing:
            if self.folders:
                self.folders.pop()
        elif name == "dl":
            self.folders.append(self.pending_folder)
            self.pending_folder = None
        self.last = None

    def _entry(self, attrs: dict[str, str]) -> BookmarkEntry:
        entry = BookmarkEntry(url=attrs["href"].strip())
        entry.created_at = self._date(attrs, "add_date", entry)
        entry.added_at = self._date(attrs, "last_saved", entry) or entry.created_at
        entry.modified_at = self._date(attrs, "last_modified", entry)
        entry.tags = split_tags(attrs.get("tags", ""))
        entry.is_private = attrs.get("private", "0").strip() == "1"
        entry.unread = attrs.get("toread", "0").strip() == "1"
        entry.note = attrs.get("description", "").strip()  # (Semantic)Scuttle's attribute; a <DD> wins
        entry.folders = [folder for folder in self.folders if folder]
        return entry

    def _date(self, attrs: dict[str, str], name: str, entry: BookmarkEntry) -> datetime | None:
        raw = attrs.get(name, "").strip()
        if not raw:
            return None
        value = parse_date(raw)
        if value is None:
            entry.warnings.append(f"{name.upper()}={raw!r} is not a date; used the import time")
            return self.now
        return value


def parse_date(raw: str) -> datetime | None:
    """Seconds, milliseconds or microseconds since 1970, or a few textual forms; None if unreadable."""
    raw = raw.strip()
    if raw.lstrip("-").isdigit():
        number = int(raw)
        if abs(number) >= 10**14:
            number //= 1_000_000
        elif abs(number) >= 10**11:
            number //= 1000
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    for fmt in _TEXT_DATE_FORMATS:
        try:
            value = datetime.strptime(raw.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def split_tags(raw: str) -> list[str]:
    """``TAGS``: comma-separated (Delicious, Pinboard, browsers), or space-separated (Shaarli)."""
    pieces = raw.split(",") if "," in raw else raw.split()
    return [name for name in (tag_name(piece) for piece in pieces) if name]


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        value = match.group(2)
        if value is None:
            value = match.group(3) if match.group(3) is not None else match.group(4) or ""
        attrs.setdefault(match.group(1).lower(), html.unescape(value))
    return attrs


def _collapse(text: str) -> str:
    return " ".join(text.split())


# -- writing ----------------------------------------------------------------

HEADER = """<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file.
     It will be read and overwritten.
     DO NOT EDIT! -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
"""
FOOTER = "</DL><p>\n"


def write(entries: Iterable[BookmarkEntry]) -> Iterator[str]:
    """The file as chunks of text, one per bookmark (for streaming responses and files).

    ``LAST_SAVED`` is ours: when a bookmark was last re-saved (moved to the
    top). Browsers ignore attributes they do not know.
    """
    yield HEADER
    escape = html.escape
    for entry in entries:
        attrs = [f'HREF="{escape(entry.url)}"']
        if entry.created_at:
            attrs.append(f'ADD_DATE="{int(entry.created_at.timestamp())}"')
        if entry.added_at and entry.created_at and int(entry.added_at.timestamp()) != int(entry.created_at.timestamp()):
            attrs.append(f'LAST_SAVED="{int(entry.added_at.timestamp())}"')
        if entry.modified_at:
            attrs.append(f'LAST_MODIFIED="{int(entry.modified_at.timestamp())}"')
        attrs.append(f'PRIVATE="{int(entry.is_private)}"')
        attrs.append(f'TOREAD="{int(entry.unread)}"')
        if entry.tags:
            attrs.append(f'TAGS="{escape(",".join(entry.tags))}"')
        line = f"<DT><A {' '.join(attrs)}>{escape(entry.title)}</A>\n"
        if entry.note:
            line += f"<DD>{escape(entry.note)}\n"
        yield line
    yield FOOTER

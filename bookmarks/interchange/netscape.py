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
_TEXT_DATE_FORMATS = ("%d/%b/%Y:%H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d")


def decode(data: bytes) -> str:
    """The file's text: BOM first, then a declared charset, then UTF-8, then Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    candidates = []
    declared = _CHARSET_RE.search(data[:4096])
    if declared:
        candidates.append(declared.group(1).decode("ascii"))
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def parse(text: str, *, now: datetime | None = None) -> list[BookmarkEntry]:
    """Every ``<A HREF>`` bookmark in ``text``, in file order (see the module docstring)."""
    return list(_Scanner(text, now or datetime.now(UTC)).scan())


class _Scanner:
    def __init__(self, text: str, now: datetime):
        self.text = text.lstrip("\ufeff")
        self.now = now
        self.folders: list[str | None] = []
        self.pending_folder: str | None = None
        self.last: BookmarkEntry | None = None  # the bookmark a <DD> would describe

    def scan(self) -> Iterator[BookmarkEntry]:
        text = self.text
        entry: BookmarkEntry | None = None  # a bookmark whose title is being read
        title_parts: list[str] = []
        folder_parts: list[str] | None = None
        dd_start: int | None = None
        dd_owner: BookmarkEntry | None = None
        pos = 0
        for match in _TOKEN_RE.finditer(text):
            between = text[pos : match.start()]
            pos = match.end()
            name = (match.group(2) or "").lower()
            closing = match.group(1) == "/"
            if dd_start is not None:
                if name not in _STRUCTURAL or (closing and name == "dd"):
                    continue  # markup inside a description is part of its text
                if dd_owner is not None:
                    dd_owner.note = html.unescape(text[dd_start : match.start()]).strip()
                dd_start = dd_owner = None
            if entry is not None:
                title_parts.append(between)
                if name == "a" and closing or name in _STRUCTURAL:
                    entry.title = _collapse(html.unescape("".join(title_parts)))
                    self.last = entry
                    yield entry
                    entry, title_parts = None, []
                if name == "a":
                    continue
            elif folder_parts is not None:
                folder_parts.append(between)
                if name == "h3" and closing or name in _STRUCTURAL:
                    self.pending_folder = _collapse(html.unescape("".join(folder_parts)))
                    folder_parts = None
                if name == "h3" and closing:
                    continue
            if not name:
                continue  # a comment
            if name == "a" and not closing:
                attrs = _attributes(match.group(3))
                if "href" in attrs:
                    entry, title_parts = self._entry(attrs), []
            elif name == "h3" and not closing:
                folder_parts, self.pending_folder, self.last = [], None, None
            elif name == "dd" and not closing:
                dd_start, dd_owner, self.last = match.end(), self.last, None
            elif name in ("dl", "dt"):
                self._list_tag(name, closing)
        if entry is not None:
            title_parts.append(text[pos:])
            entry.title = _collapse(html.unescape("".join(title_parts)))
            yield entry
        elif dd_start is not None and dd_owner is not None:
            dd_owner.note = html.unescape(text[dd_start:]).strip()

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

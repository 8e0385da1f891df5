"""Reading an uploaded or given bookmark file, whatever its format."""

from __future__ import annotations

import json

from bookmarks.interchange import netscape, pinboard_json
from bookmarks.interchange.entries import BookmarkEntry


class UnreadableFile(ValueError):
    """The file is neither Netscape bookmark HTML nor a Pinboard JSON export."""


def read_bookmark_file(data: bytes) -> list[BookmarkEntry]:
    """Entries from Netscape HTML or Pinboard JSON (told apart by the first character)."""
    text = netscape.decode(data)
    if text.lstrip()[:1] == "[":
        try:
            return pinboard_json.parse(text)
        except (json.JSONDecodeError, TypeError, AttributeError) as exc:
            raise UnreadableFile(f"This looks like JSON but is not a Pinboard export: {exc}") from None
    return netscape.parse(text)

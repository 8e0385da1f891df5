"""Pinboard's JSON export (``posts/all?format=json``): a list of posts.

Each post: ``href``, ``description`` (the title), ``extended`` (the person's
notes), ``time`` (ISO 8601, UTC), ``shared`` / ``toread`` (``"yes"``/``"no"``),
``tags`` (space-separated), ``hash``, ``meta``.
"""

from __future__ import annotations

import json
from datetime import datetime

from bookmarks.interchange.entries import BookmarkEntry, tag_name


def parse(text: str) -> list[BookmarkEntry]:
    posts = json.loads(text)
    if not isinstance(posts, list):
        raise TypeError("expected a list of posts")
    return [_entry(post) for post in posts if isinstance(post, dict) and post.get("href")]


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

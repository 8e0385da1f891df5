"""Reading a whole collection out as ``BookmarkEntry`` rows, for exports and the Pinboard API.

Two queries whatever the size (bookmarks, then all their tag names), read in
chunks, so a 100,000-bookmark export stays fast and small in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from bookmarks.entries import BookmarkEntry
from bookmarks.models import Bookmark

_FIELDS = ("id", "url", "title", "page_title", "note", "created_at", "added_at", "updated_at", "is_private", "unread")


def bookmark_entries(user: AbstractBaseUser, queryset: QuerySet[Bookmark] | None = None) -> Iterator[BookmarkEntry]:
    """The user's bookmarks (or those of ``queryset``), newest first.

    The title is the one the person typed, else the page's own title, so the
    file shows what the list shows.
    """
    bookmarks = (queryset if queryset is not None else Bookmark.objects.filter(owner=user)).order_by(
        "-added_at", "-id"
    )
    tags = _tag_names(user)
    for row in bookmarks.values_list(*_FIELDS).iterator(chunk_size=2000):
        pk, url, title, page_title, note, created_at, added_at, updated_at, is_private, unread = row
        yield BookmarkEntry(
            url=url,
            title=title or page_title,
            tags=tags.get(pk, []),
            note=note,
            created_at=created_at,
            added_at=added_at,
            modified_at=updated_at,
            is_private=is_private,
            unread=unread,
        )


def _tag_names(user: AbstractBaseUser) -> dict[int, list[str]]:
    through = Bookmark.tags.through
    names: dict[int, list[str]] = defaultdict(list)
    rows = through.objects.filter(bookmark__owner=user).order_by("bookmark_id", "tag__name")
    for bookmark_id, name in rows.values_list("bookmark_id", "tag__name").iterator(chunk_size=5000):
        names[bookmark_id].append(name)
    return names

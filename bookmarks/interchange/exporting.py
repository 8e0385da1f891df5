"""Reading a whole collection out as ``BookmarkEntry`` rows, for exports and the Pinboard API.

Two queries whatever the size (bookmarks, then all their tag names), read in
chunks, so a 100,000-bookmark export stays fast and small in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from bookmarks.interchange.entries import BookmarkEntry
from bookmarks.models import Bookmark

_FIELDS = ("id", "url", "title", "page_title", "note", "created_at", "added_at", "updated_at", "is_private", "unread")


def bookmark_entries(user: AbstractBaseUser, queryset: QuerySet[Bookmark] | None = None) -> Iterator[BookmarkEntry]:
    """The user's bookmarks (or those of ``queryset``), newest first.

    The title is the one the person typed, else the page's own title, so the
    file shows what the list shows.
    """
    if queryset is None:
        rows = Bookmark.objects.filter(owner=user).order_by("-added_at", "-id").values_list(*_FIELDS)
        rows = rows.iterator(chunk_size=2000)
        tags = _tag_names(Bookmark.tags.through.objects.filter(bookmark__owner=user))
    else:
        # A page of bookmarks (the Pinboard API): tags for just those rows.
        if not queryset.query.is_sliced:
            queryset = queryset.order_by("-added_at", "-id")
        rows = list(queryset.values_list(*_FIELDS))
        ids = [row[0] for row in rows]
        tags: dict[int, list[str]] = {}
        for start in range(0, len(ids), 1000):  # SQLite caps parameters per statement
            links = Bookmark.tags.through.objects.filter(bookmark_id__in=ids[start : start + 1000])
            tags.update(_tag_names(links))
    for row in rows:
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


def _tag_names(links: QuerySet) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    rows = links.order_by("bookmark_id", "tag__name").values_list("bookmark_id", "tag__name")
    for bookmark_id, name in rows.iterator(chunk_size=5000):
        names[bookmark_id].append(name)
    return names

"""Pages of a bookmark list that stay fast deep into a large collection.

A plain ``OFFSET`` makes the database build every skipped row. Here the page's
ids come from the ``(owner, -added_at, -id)`` index alone (an index-only scan
on PostgreSQL, a covering index on SQLite), then only those rows are read.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from bookmarks.models import Bookmark


def paginate_bookmarks(bookmarks: QuerySet[Bookmark], number: str | int | None, per_page: int) -> Page:
    """Page ``number`` (clamped like ``Paginator.get_page``) with its bookmarks and their tags.

    Queries: one count, one for the page's ids, one for the rows, one for the tags.
    """
    page = Paginator(bookmarks.values_list("id", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = {bookmark.pk: bookmark for bookmark in Bookmark.objects.filter(id__in=ids).prefetch_related("tags")}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page

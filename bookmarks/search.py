"""Searching a user's bookmarks.

Words are ANDed; each must appear (ignoring case) in the title, the page
title, the URL, the note or the description.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from bookmarks.models import Bookmark

SEARCH_FIELDS = ("title", "page_title", "url", "note", "description")
MAX_TERMS = 20


def search_bookmarks(queryset: QuerySet[Bookmark], query: str) -> QuerySet[Bookmark]:
    for term in query.split()[:MAX_TERMS]:
        matches = Q()
        for field in SEARCH_FIELDS:
            matches |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(matches)
    return queryset

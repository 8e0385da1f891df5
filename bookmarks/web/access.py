"""Ownership checks: every view that takes a bookmark id goes through here."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from bookmarks.models import Bookmark


def owned_bookmark(request: HttpRequest, bookmark_id: int) -> Bookmark:
    """The request user's bookmark ``bookmark_id``; 404 for anyone else's or none."""
    if not request.user.is_authenticated:
        raise Http404
    return get_object_or_404(Bookmark, pk=bookmark_id, owner=request.user)

"""Read and unread from the list: the row's "Mark read" / "Read later" button (with or without JavaScript)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookmarks import services
from bookmarks.models import Bookmark
from bookmarks.web.access import owned_bookmark
from bookmarks.web.listing import item_labels, list_items


@login_required
@require_POST
def bookmark_unread(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    """``unread=0`` marks the bookmark read, ``unread=1`` unread ("read later").

    A form post comes back to ``next`` with a message; static/js/list.js
    posts the same form asking for JSON and puts the returned row in place.
    """
    bookmark = owned_bookmark(request, bookmark_id)
    wants_json = "application/json" in request.headers.get("accept", "")
    value = request.POST.get("unread", "")
    if value not in ("0", "1"):
        problem = _("Mark it read (0) or unread (1).")
        if wants_json:
            return JsonResponse({"error": problem}, status=400)
        messages.error(request, problem)
        return redirect(_back(request))
    services.mark_unread(request.user, [bookmark.pk], unread=value == "1")
    bookmark = Bookmark.objects.get(pk=bookmark.pk)
    if wants_json:
        return JsonResponse(_row(request, bookmark))
    if bookmark.unread:
        messages.success(request, _("Marked “%(title)s” to read later.") % {"title": bookmark.display_title})
    else:
        messages.success(request, _("Marked “%(title)s” read.") % {"title": bookmark.display_title})
    return redirect(_back(request))


def _row(request: HttpRequest, bookmark: Bookmark) -> dict[str, object]:
    """The bookmark's list row, as the live poll sends it."""
    context = {
        "item": list_items([bookmark])[0],
        "labels": item_labels(),
        "list_url": reverse("bookmarks:list"),
        "next_path": _back(request),
    }
    html = render_to_string("bookmarks/item.html", context, request)
    return {"id": bookmark.pk, "version": bookmark.updated_at.isoformat(), "html": html}


def _back(request: HttpRequest) -> str:
    """``next`` when it points into this site, else the list."""
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok and target else reverse("bookmarks:list")

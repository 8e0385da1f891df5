"""The reader view: a bookmark's kept page text as a clean page (``/bookmarks/<id>/read/``).

The text is plain text (``bookmarks.fetching.text``); the template makes one
escaped ``<p>`` per line. Nothing of the page's markup is ever kept, so no
script, style, iframe, image or event attribute of it can reach this page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bookmarks.models import LinkHealth, PageText
from bookmarks.web.access import owned_bookmark


@login_required
@require_GET
def bookmark_read(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    bookmark = owned_bookmark(request, bookmark_id)
    text = PageText.objects.filter(bookmark=bookmark).first()
    kept = text is not None and text.state == PageText.State.KEPT
    context = {
        "bookmark": bookmark,
        "text": text,
        "kept": kept,
        "paragraphs": text.text.split("\n") if kept else [],
        "broken": LinkHealth.objects.filter(bookmark=bookmark, broken=True).first(),
    }
    return render(request, "bookmarks/read.html", context)

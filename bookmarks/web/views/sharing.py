"""Sharing from a phone: the web app manifest, whose share target opens the share page, prefilled.

The share target is a GET (``/bookmarks/share/?title=…&text=…&url=…``): the page
only fills a form, so nothing changes without the user's tap on Save (a normal
POST with its CSRF token), and a user who must log in first comes back to the
same address through ``next``, where a POSTed share would have been lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bookmarks.web.forms import BookmarkForm

THEME_COLOR = "#0b5cad"  # --accent in site.css
BACKGROUND_COLOR = "#fbfbf8"  # --bg
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the link before it.
_TRAILING = ".,;:!?)]}>\"'。，、；：！？）】」》"


@dataclass(frozen=True)
class SharedLink:
    url: str
    title: str
    note: str


def shared_link(title: str, text: str, url: str) -> SharedLink:
    """What a share sheet sent, as a bookmark: Android apps often put the link in ``text``,
    alone or inside a sentence; text other than the link and the title becomes the note."""
    title, text, url = title.strip(), text.strip(), url.strip()
    leftovers = []
    if not _LINK.fullmatch(url):
        leftovers.append(url)
        found = _LINK.search(text)
        url = found.group(0).rstrip(_TRAILING) if found else ""
        if found:
            text = (text[: found.start()] + text[found.end() :]).strip()
    leftovers.append(text)
    if title == url:
        title = ""
    note = "\n".join(piece for piece in leftovers if piece and piece not in (title, url))
    return SharedLink(url=url, title=title, note=note)


@login_required
@require_GET
def share(request: HttpRequest) -> HttpResponse:
    shared = shared_link(*(request.GET.get(key, "") for key in ("title", "text", "url")))
    form = BookmarkForm(initial={"url": shared.url, "title": shared.title, "note": shared.note})
    if shared.url:  # a focused field opens a phone's keyboard over the Save button
        form.fields["url"].widget.attrs.pop("autofocus", None)
    context = {
        "form": form,
        "shared": shared,
        "main_fields": [form["url"], form["title"]],
        "more_fields": [form["tags"], form["note"], form["is_private"], form["unread"]],
    }
    return render(request, "bookmarks/share.html", context)


@require_GET
def manifest(request: HttpRequest, language: str) -> HttpResponse:
    """The web app manifest in one language (a manifest is fetched without the language cookie)."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(language):
        data = {
            "id": "/",
            "lang": language,
            "dir": "ltr",
            "name": _("favsite bookmarks"),
            "short_name": "favsite",
            "description": _("Save links from chat or your phone's share menu; find them again here."),
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": [
                {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {
                    "src": static("img/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
            "share_target": {
                "action": reverse("bookmarks:share"),
                "method": "GET",
                "enctype": "application/x-www-form-urlencoded",
                "params": {"title": "title", "text": "text", "url": "url"},
            },
        }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response

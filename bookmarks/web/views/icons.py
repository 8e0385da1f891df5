"""Site icons, served by the site itself (``/bookmarks/icons/<host>.png``): the browser never asks the bookmarked site.

What is served is the PNG the worker drew (``bookmarks.fetching.favicons``),
never the site's own file. The list links each icon with its digest as the
version (``?v=``), so that URL can be cached for a year; the ETag answers
revalidation with 304. Only signed-in people get icons: the URL names a
host, and a stranger must not learn which hosts the site's users keep.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_GET

from bookmarks.services import favicons

YEAR = 365 * 24 * 3600
DAY = 24 * 3600


@login_required
@require_GET
def site_icon(request: HttpRequest, host: str) -> HttpResponseBase:
    icon = favicons.icon_of(host)
    if icon is None:
        raise Http404
    etag = f'"{icon.digest}"'
    current = request.GET.get("v", "") == icon.digest[: favicons.VERSION_LENGTH]
    # private: the answer is only for signed-in people; a stale version is kept a day, the current one a year.
    cache_control = f"private, max-age={YEAR}, immutable" if current else f"private, max-age={DAY}"
    response: HttpResponseBase | None = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(bytes(icon.image), content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    # An image needs nothing else; should anything ever open it as a document, it may do nothing.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response

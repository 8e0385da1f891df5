"""Dates in the user's own time zone, without a database query.

The browser reports its zone into the ``favsite_tz`` cookie (a line of JS in
base.html); a zone chosen in settings goes into ``favsite_tz_set`` and wins.
The script writes the name URL-encoded (``Asia%2FShanghai``), so cookie
values are decoded before the lookup. Unknown names are ignored, so a forged
cookie cannot break a page.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BROWSER_COOKIE = "favsite_tz"
CHOSEN_COOKIE = "favsite_tz_set"


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def user_zone_name(request: HttpRequest) -> str:
    """The zone a request's dates are shown in; empty means the site default."""
    for cookie in (CHOSEN_COOKIE, BROWSER_COOKIE):
        name = unquote(request.COOKIES.get(cookie, ""))
        if is_zone_name(name):
            return name
    return ""


def is_zone_name(name: str) -> bool:
    """Whether ``name`` is an IANA zone this system knows."""
    return name in _known()


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(zone_names())


class TimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = user_zone_name(request)
        if name:
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)

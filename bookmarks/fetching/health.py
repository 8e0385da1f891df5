"""Checking that a saved link still answers, under the fetcher's policy: one GET, headers only.

``check_link(url)`` follows redirects with the same client, address policy
and deadline as the title fetch (``bookmarks.fetching.pages``), reads the
final status line and headers and closes the connection without reading the
body. It never raises for network trouble; the outcome is one of
``LinkHealth.Outcome``'s values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from bookmarks.fetching.metadata.client import FetchError
from bookmarks.fetching.metadata.policy import Blocked
from bookmarks.fetching.pages import TooManyRedirects, open_page
from bookmarks.normalize import InvalidURL, normalize_url

__all__ = ["CheckResult", "check_link"]

GONE = {404, 410}


@dataclass(frozen=True)
class CheckResult:
    outcome: str  # ok, moved, gone, failing, refused
    http_status: int | None = None
    final_url: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in ("gone", "failing")


def check_link(url: str, *, timeout: float | None = None) -> CheckResult:
    """Whether ``url`` still answers, and where (see the module docstring)."""
    deadline = time.monotonic() + (settings.FETCH_TIMEOUT if timeout is None else timeout)
    try:
        opened = open_page(url, deadline)
    except Blocked as error:
        return CheckResult("refused", error=str(error))
    except TooManyRedirects as error:
        return CheckResult("failing", error=str(error))
    except FetchError as error:
        return CheckResult("failing", error=str(error))
    status, final_url = opened.response.status, opened.final_url
    opened.response.close()
    if status in GONE:
        return CheckResult("gone", status, final_url, f"HTTP {status}")
    if status >= 500:
        return CheckResult("failing", status, final_url, f"HTTP {status}")
    # Other answers (2xx, and 401/403/429 from sites that refuse robots) say the link is there.
    if opened.hops and not _same_link(url, final_url):
        return CheckResult("moved", status, final_url)
    return CheckResult("ok", status, final_url)


def _same_link(url: str, final_url: str) -> bool:
    """Whether a redirect only tidied the link (http to https, a trailing slash, tracking parameters)."""
    try:
        before, after = normalize_url(url), normalize_url(final_url)
    except InvalidURL:
        return url == final_url
    return _without_scheme(before) == _without_scheme(after)


def _without_scheme(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")

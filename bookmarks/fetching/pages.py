"""Opening a page under the fetcher's policy, redirects followed: what the text keeper and the link checker share.

The same client, address policy and deadline as the title fetch
(``bookmarks.fetching.metadata``): every hop is connected through
``open_url``, which checks each resolved address, and at most
``MAX_REDIRECTS`` redirects are followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from bookmarks.fetching.metadata.client import FetchError, Response, open_url
from bookmarks.fetching.metadata.fetcher import MAX_REDIRECTS

__all__ = ["Opened", "TooManyRedirects", "open_page"]

REDIRECTS = {301, 302, 303, 307, 308}


class TooManyRedirects(FetchError):
    """More than ``MAX_REDIRECTS`` redirects (final: not retried)."""


@dataclass
class Opened:
    """The last response of a chain of redirects (headers read, body not yet) and the URLs it went through."""

    response: Response
    hops: list[str] = field(default_factory=list)

    @property
    def final_url(self) -> str:
        return self.response.url


def open_page(url: str, deadline: float) -> Opened:
    """GET ``url``, following redirects, before ``deadline`` (monotonic); the caller closes the response.

    Raises ``Blocked`` (policy, on any hop), ``TooManyRedirects``, or the
    client's ``FetchError``s (``Timeout``, ``ConnectionFailed``).
    """
    current, hops = url, []
    for hop in range(MAX_REDIRECTS + 1):
        response = open_url(current, deadline)
        location = response.headers.get("location", "").strip()
        if response.status not in REDIRECTS or not location:
            return Opened(response, hops)
        response.close()
        if hop == MAX_REDIRECTS:
            break
        hops.append(current)
        current = urljoin(current, location)
    raise TooManyRedirects(f"too many redirects (more than {MAX_REDIRECTS})")

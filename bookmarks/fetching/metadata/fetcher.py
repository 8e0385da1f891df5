"""``fetch_page_metadata(url)``: the whole safe fetch, redirects included, within one deadline."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin

from django.conf import settings

from bookmarks.fetching.metadata.client import FetchError, Response, Timeout, open_url
from bookmarks.fetching.metadata.decode import decode_html
from bookmarks.fetching.metadata.extract import HeadScanner, extract_metadata, title_from_file_name
from bookmarks.fetching.metadata.policy import Blocked

__all__ = ["MAX_REDIRECTS", "PageMetadata", "fetch_page_metadata"]

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_HTML_TYPES = {"", "text/html", "application/xhtml+xml"}


@dataclass
class PageMetadata:
    """What one fetch found. ``as_dict()`` is the JSON of ``manage.py fetch_metadata``.

    ``retryable`` (not in the JSON) says whether a failed fetch may succeed
    later: timeouts, connection errors and 5xx are; policy refusals, 4xx and
    malformed responses are not.
    """

    url: str
    final_url: str = ""
    ok: bool = False
    title: str = ""
    description: str = ""
    site_name: str = ""
    favicon_url: str = ""
    image_url: str = ""
    content_type: str = ""
    http_status: int | None = None
    error: str | None = None
    retryable: bool = field(default=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["retryable"]
        return data

    def fail(self, error: str, *, retryable: bool) -> PageMetadata:
        self.ok, self.error, self.retryable = False, error, retryable
        return self


def fetch_page_metadata(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> PageMetadata:
    """Fetch ``url`` under the address policy and read its metadata; never raises for network trouble.

    1. Connect (every hop's addresses checked), follow at most 5 redirects.
    2. Errors and non-HTML responses end here, without reading a body.
    3. Read the body until the head is complete, the byte cap, or the deadline.
    4. Decode and extract.
    """
    timeout = settings.FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = settings.FETCH_MAX_BYTES if max_bytes is None else max_bytes
    deadline = time.monotonic() + timeout
    result = PageMetadata(url=url, final_url=url)
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        result.final_url = current
        try:
            response = open_url(current, deadline)
        except Blocked as error:
            return result.fail(str(error), retryable=False)
        except FetchError as error:
            return result.fail(str(error), retryable=error.retryable)
        try:
            location = response.headers.get("location", "")
            if response.status in _REDIRECTS and location:
                if hop == MAX_REDIRECTS:
                    result.http_status = response.status
                    return result.fail(f"too many redirects (more than {MAX_REDIRECTS})", retryable=False)
                try:
                    current = urljoin(current, location.strip())
                except ValueError:  # "http://[::1/", say
                    return result.fail("not a valid URL", retryable=False)
                continue
            return _read_page(result, response, max_bytes)
        except Blocked as error:
            return result.fail(str(error), retryable=False)
        except FetchError as error:
            return result.fail(str(error), retryable=error.retryable)
        finally:
            response.close()
    raise AssertionError("unreachable: the loop returns")


def _read_page(result: PageMetadata, response: Response, max_bytes: int) -> PageMetadata:
    result.http_status = response.status
    result.content_type = response.content_type
    if response.status >= 400:
        # 408/429 and 5xx say "not now"; other 4xx say "never".
        retry = response.status >= 500 or response.status in (408, 429)
        return result.fail(f"HTTP {response.status}", retryable=retry)
    if response.status >= 300:
        return result.fail(f"HTTP {response.status} without a usable Location", retryable=False)
    if response.content_type not in _HTML_TYPES:
        # Not a page: no body read; the file name is the best title there is.
        result.title = title_from_file_name(result.final_url, response.headers.get("content-disposition", ""))
        result.ok = bool(result.title)
        return result if result.ok else result.fail("no title: not an HTML page", retryable=False)
    body, complete = _read_head(response, max_bytes)
    text, _codec = decode_html(body, response.charset, complete=complete)
    found = extract_metadata(text, result.final_url)
    result.title, result.description, result.site_name = found.title, found.description, found.site_name
    result.favicon_url, result.image_url = found.favicon_url, found.image_url
    result.ok = bool(found.title)
    return result if result.ok else result.fail("no title found in the page", retryable=False)


def _read_head(response: Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body up to the end of the useful part, or ``max_bytes``; and whether the body ended there."""
    body = bytearray()
    scanner = HeadScanner()
    try:
        for piece in response.iter_body(max_piece=min(65536, max_bytes + 1)):
            body += piece
            if len(body) >= max_bytes:
                return bytes(body[:max_bytes]), False
            if scanner.update(body):
                return bytes(body), False
    except Timeout:
        if not body or not scanner.update(body):
            raise
    return bytes(body), True

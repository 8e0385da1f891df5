"""A site's icon: fetched under the fetcher's policy, checked, and redrawn by us as a small PNG.

``fetch_favicon(candidates)`` tries each URL in turn (the icon the page
names in ``<link rel="icon">``, then ``/favicon.ico`` at the page's origin)
with the same client, address policy and redirect limit as the title fetch
(``bookmarks.fetching.pages.open_page``), all within one ``FETCH_TIMEOUT``.
It never raises for network trouble.

What is accepted, from the bytes (the server's Content-Type is not trusted,
as browsers do not trust it for images):
PNG, ICO, GIF, JPEG, WebP and BMP, as Pillow recognises them, at most
``FAVICON_MAX_BYTES`` (decompressed; a larger body is refused, not cut) and
at most ``MAX_SIDE`` pixels a side, read from the image's header before any
pixel is decoded. SVG is refused: an SVG file is a document that can carry
script and fetch other URLs, and serving it safely would take a sanitiser
we would have to trust. Most sites that offer an SVG icon offer a raster one
too, and ``/favicon.ico`` is tried next.

What is kept is never the site's file: the first frame is drawn into a PNG
of at most ``ICON_SIZE`` pixels a side, so a file that is also HTML or script
(a polyglot), or carries metadata, keeps nothing but its pixels.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from django.conf import settings

from bookmarks.fetching.metadata.client import FetchError, Response
from bookmarks.fetching.metadata.policy import Blocked
from bookmarks.fetching.pages import open_page

__all__ = ["ICON_FORMATS", "ICON_SIZE", "MAX_SIDE", "FoundIcon", "NotAnIcon", "fetch_favicon", "redraw"]

# Pillow's names of the formats read; everything else (SVG, PDF, TIFF, PSD, ...) is not an icon.
ICON_FORMATS = ("PNG", "ICO", "GIF", "JPEG", "WEBP", "BMP")
# The largest side of an icon we decode; anything bigger is not a favicon (and may be a decompression bomb).
MAX_SIDE = 1024
# The side of the PNG we keep: 16 CSS pixels at up to 4 device pixels each.
ICON_SIZE = 64
_SVG_TYPES = {"image/svg+xml", "image/svg"}


class NotAnIcon(Exception):
    """The answer was not a usable icon (final: asking again gives the same answer)."""


@dataclass
class FoundIcon:
    """What one icon fetch found: ``png`` (our redrawing) and where it came from, or why there is none."""

    png: bytes = b""
    source_url: str = ""
    error: str = ""
    retryable: bool = False


def fetch_favicon(candidates: list[str], *, timeout: float | None = None, max_bytes: int | None = None) -> FoundIcon:
    """The first usable icon among ``candidates`` (see the module docstring); the errors of all when none is."""
    timeout = settings.FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = settings.FAVICON_MAX_BYTES if max_bytes is None else max_bytes
    deadline = time.monotonic() + timeout
    errors: list[str] = []
    retryable = False
    for url in dict.fromkeys(url for url in candidates if url):
        try:
            return FoundIcon(png=_fetch_one(url, deadline, max_bytes), source_url=url)
        except (Blocked, NotAnIcon) as error:
            errors.append(f"{url}: {error}")
        except FetchError as error:
            errors.append(f"{url}: {error}")
            retryable = retryable or error.retryable
    return FoundIcon(error="; ".join(errors) or "no icon to look for", retryable=retryable)


def _fetch_one(url: str, deadline: float, max_bytes: int) -> bytes:
    opened = open_page(url, deadline)
    try:
        response = opened.response
        if response.status != 200:
            raise NotAnIcon(f"HTTP {response.status}")
        if response.content_type in _SVG_TYPES:
            raise NotAnIcon("an SVG icon (refused: SVG can carry script)")
        return redraw(_read_capped(response, max_bytes))
    finally:
        opened.response.close()


def _read_capped(response: Response, max_bytes: int) -> bytes:
    """The whole body, or ``NotAnIcon`` as soon as it is known to be larger than ``max_bytes``."""
    too_large = NotAnIcon(f"too large (more than {max_bytes} bytes)")
    length = response.headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > max_bytes and "content-encoding" not in response.headers:
        raise too_large  # said up front: nothing is read
    body = bytearray()
    for piece in response.iter_body(max_piece=min(65536, max_bytes + 1)):
        body += piece
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def redraw(data: bytes) -> bytes:
    """A PNG of at most ``ICON_SIZE`` pixels a side drawn from the icon file ``data``; ``NotAnIcon`` if none."""
    from PIL import Image  # the worker's alone

    if not data:
        raise NotAnIcon("an empty file")
    try:
        with Image.open(io.BytesIO(data), formats=ICON_FORMATS) as image:
            if max(image.size) > MAX_SIDE:
                raise NotAnIcon(f"too large an image ({image.width}x{image.height} pixels)")
            image.load()
            if max(image.size) > MAX_SIDE:  # an ICO entry can be larger than its directory said
                raise NotAnIcon(f"too large an image ({image.width}x{image.height} pixels)")
            icon = image.convert("RGBA")
    except NotAnIcon:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: refused before decoding too
        raise NotAnIcon(f"too large an image (more than {MAX_SIDE}x{MAX_SIDE} pixels)") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise NotAnIcon("not an image in a format we accept (PNG, ICO, GIF, JPEG, WebP, BMP)") from None
    icon.thumbnail((ICON_SIZE, ICON_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    icon.save(out, format="PNG", optimize=True)
    return out.getvalue()

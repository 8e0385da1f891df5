"""Title, description, site name, favicon and image from the top of an HTML page.

Only the region that can hold them is read and parsed (up to ``</head>`` when
the head has a title, else up to the first ``</h1>``), with lxml's C parser:
the rest of a page, often most of it, is neither fetched nor parsed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from posixpath import basename
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

__all__ = ["Extracted", "HeadScanner", "extract_metadata", "head_is_complete", "title_from_file_name"]

TITLE_MAX_LENGTH = 500
DESCRIPTION_MAX_LENGTH = 2000
SITE_NAME_MAX_LENGTH = 200
URL_MAX_LENGTH = 2000

_HEAD_END = re.compile(r"</head\s*>", re.I)
_H1_END = re.compile(r"</h1\s*>", re.I)
# What says the head holds a title, ignoring ASCII case (see _has_title_marker).
_TITLE_MARKERS = ("<title", "og:title", "twitter:title")
_TITLE_MARKERS_B = tuple(marker.encode("ascii") for marker in _TITLE_MARKERS)
_TITLE_MARKER_MAX = max(map(len, _TITLE_MARKERS))
# What may follow "</head" or "</h1" cut off by the end of the bytes read so far.
_REST_OF_END_TAG = re.compile(rb"\s*(>)?")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_SPACES = re.compile(r"\s+")
# Invisible characters that can disguise a title (bidirectional overrides, zero-width space).
_INVISIBLE = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0xFEFF, 0x00AD])


@dataclass
class Extracted:
    title: str = ""
    description: str = ""
    site_name: str = ""
    favicon_url: str = ""
    image_url: str = ""
    canonical_url: str = ""


def head_is_complete(data: bytes) -> bool:
    """True once ``data`` (the page so far) holds everything extraction needs."""
    return HeadScanner().update(data)


class HeadScanner:
    """Says, piece after piece, whether the page read so far holds everything extraction needs.

    Complete means: the first ``</head>`` has been read and a title (``<title``,
    ``og:title``, ``twitter:title``) came before it; or a ``</h1>`` has been read.
    Like ``_region``, this is a plain text search: a ``</head>`` inside a script
    or comment counts. Each search resumes where the last one stopped (less the
    few bytes of a tag cut by the end of a piece), so a long head costs one pass
    rather than one pass per piece. ``examined`` counts the bytes searched, so
    tests can check that the work stays proportional to the page.
    """

    def __init__(self) -> None:
        self._head_end = _EndTag(b"head")
        self._h1_end = _EndTag(b"h1")
        # A marker read before </head> is known lies before it: none fits inside "</head".
        self._title_seen = False
        self._title_from = 0  # no title marker starts before this
        self._title_examined = 0

    @property
    def examined(self) -> int:
        return self._head_end.examined + self._h1_end.examined + self._title_examined

    def update(self, data: bytes | bytearray) -> bool:
        """True once ``data`` is complete. ``data`` is the page so far: the same bytes each call, grown at the end."""
        head_end = self._head_end.search(data)
        limit = len(data) if head_end is None else head_end
        if not self._title_seen and self._title_from < limit:
            self._title_examined += limit - self._title_from
            self._title_seen = _has_title_marker(data, self._title_from, limit, _TITLE_MARKERS_B)
            self._title_from = max(self._title_from, limit - _TITLE_MARKER_MAX + 1)
        if head_end is not None and self._title_seen:
            return True
        return self._h1_end.search(data) is not None


class _EndTag:
    """The first ``</name\\s*>`` of a growing buffer, looking at each byte about once."""

    def __init__(self, name: bytes) -> None:
        self.pattern = re.compile(rb"</" + name + rb"\s*(>|\Z)", re.I)
        self.partial = len(b"</" + name) - 1  # a tag may start this close to the end, its name not yet read
        self.resume = 0  # no end tag starts before this
        self.cut: int | None = None  # "</name" (and spaces) ending the buffer: its ">" may come next
        self.found: int | None = None
        self.examined = 0

    def search(self, data: bytes | bytearray) -> int | None:
        """Where the tag starts in ``data``, or None while it has not been read."""
        if self.found is not None:
            return self.found
        if self.cut is not None:
            rest = _REST_OF_END_TAG.match(data, self.resume)
            self.examined += rest.end() - self.resume + 1
            if rest.group(1):
                self.found = self.cut
                return self.found
            if rest.end() == len(data):  # still only spaces after the name
                self.resume = len(data)
                return None
            self.cut = None  # something else followed: not an end tag, and nothing up to here starts one
        self.examined += len(data) - self.resume
        match = self.pattern.search(data, self.resume)
        if match is None:
            self.resume = max(self.resume, len(data) - self.partial)
        elif match.group(1):
            self.found = match.start()
        else:
            self.cut, self.resume = match.start(), len(data)
        return self.found


def extract_metadata(html: str, base_url: str) -> Extracted:
    """Read the metadata of ``html`` (fetched from ``base_url``)."""
    root = _parse(_region(html))
    meta = _meta_values(root)
    links = _links(root)
    base = _base_href(root, base_url)
    title = (
        _first_text(root, "//title")
        or meta.get("og:title", "")
        or meta.get("twitter:title", "")
        or _first_text(root, "//h1")
    )
    favicon = _resolve(base, links.get("icon") or links.get("shortcut icon") or links.get("apple-touch-icon") or "")
    if not favicon:
        favicon = _resolve(base_url, "/favicon.ico")
    return Extracted(
        title=clean_text(title, TITLE_MAX_LENGTH),
        description=clean_text(
            meta.get("description") or meta.get("og:description") or meta.get("twitter:description") or "",
            DESCRIPTION_MAX_LENGTH,
        ),
        site_name=clean_text(meta.get("og:site_name") or meta.get("application-name") or "", SITE_NAME_MAX_LENGTH),
        favicon_url=favicon,
        image_url=_resolve(base, meta.get("og:image") or meta.get("og:image:url") or meta.get("twitter:image") or ""),
        canonical_url=_resolve(base, links.get("canonical") or meta.get("og:url") or ""),
    )


def title_from_file_name(url: str, content_disposition: str = "") -> str:
    """A title for a non-HTML response: the file name it is sent as, or the last part of its path."""
    match = re.search(r"""filename\*?\s*=\s*(?:UTF-8'')?["']?([^"';]+)""", content_disposition, re.I)
    name = unquote(match.group(1)) if match else unquote(basename(urlsplit(url).path))
    return clean_text(name or urlsplit(url).hostname or "", TITLE_MAX_LENGTH)


def clean_text(text: str, limit: int) -> str:
    """Collapse whitespace, drop control and invisible characters, cap the length."""
    text = text.translate(_INVISIBLE)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\t\n\r")
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _region(html: str) -> str:
    head_end = _HEAD_END.search(html)
    if head_end and _has_title_marker(html, 0, head_end.start(), _TITLE_MARKERS):
        return html[: head_end.end()]
    h1_end = _H1_END.search(html)
    return html[: h1_end.end()] if h1_end else html


def _has_title_marker(text: str | bytes | bytearray, start: int, end: int, markers: tuple) -> bool:
    """Whether a title marker lies in ``text[start:end]``, ASCII case ignored.

    Plain finds, not a case-insensitive regex: Python's re tries such an
    alternation at every position, the costliest step on a long head. Lower case
    first, as nearly every page writes it, so most pages need no lowered copy.
    lower() turns no non-ASCII character into a marker (only İ and the Kelvin
    sign become ASCII), so str and bytes agree and the region ends where the
    reader stopped.
    """
    if any(text.find(marker, start, end) >= 0 for marker in markers):
        return True
    lowered = text[start:end].lower()
    return any(marker in lowered for marker in markers)


def _parse(html: str) -> etree._Element | None:
    # Bytes with an explicit encoding: lxml then ignores any <meta charset>
    # in the text, which has already been decoded.
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, remove_comments=True)
    html = _XML_DECLARATION.sub("", html, count=1)
    try:
        return etree.fromstring(html.encode("utf-8", "surrogatepass"), parser)
    except (etree.ParserError, ValueError):
        return None


def _first_text(root: etree._Element | None, path: str) -> str:
    if root is None:
        return ""
    for element in root.xpath(path):
        text = "".join(element.itertext())
        if text.strip():
            return text
    return ""


def _meta_values(root: etree._Element | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if root is None:
        return values
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = element.get("content")
        if key and content and key not in values:
            values[key] = content
    return values


_ICON_RELS = {"icon", "shortcut icon", "apple-touch-icon"}


def _links(root: etree._Element | None) -> dict[str, str]:
    links: dict[str, str] = {}
    if root is None:
        return links
    for element in root.iter("link"):
        rel = " ".join((element.get("rel") or "").lower().split())
        href = element.get("href")
        if rel and href and rel not in links and not (rel in _ICON_RELS and _is_svg(element, href)):
            links[rel] = href
    return links


def _is_svg(element: etree._Element, href: str) -> bool:
    """An SVG icon: passed over for the next one (favicons are never SVG, bookmarks.fetching.favicons)."""
    kind = (element.get("type") or "").strip().lower()
    path = href.strip().split("#", 1)[0].split("?", 1)[0].lower()
    return kind.startswith("image/svg") or path.endswith((".svg", ".svgz"))


def _base_href(root: etree._Element | None, base_url: str) -> str:
    if root is not None:
        for element in root.iter("base"):
            href = element.get("href")
            if href:
                resolved = _resolve(base_url, href)
                return resolved or base_url
    return base_url


def _resolve(base: str, href: str) -> str:
    """``href`` made absolute against ``base``; empty unless it is http(s)."""
    href = href.strip()
    if not href:
        return ""
    try:
        url = urljoin(base, href)
    except ValueError:
        return ""
    if urlsplit(url).scheme.lower() not in ("http", "https") or len(url) > URL_MAX_LENGTH:
        return ""
    return url

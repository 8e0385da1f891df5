"""URL checking and the de-duplication key.

``clean_url`` checks what a person sent and returns it tidied but otherwise as
sent (that is what the bookmark links to). ``normalize_url`` turns it into the
key that decides whether two URLs are "the same bookmark":

1. scheme and host lower-cased; IDN hosts in punycode; a trailing dot dropped;
2. the default port (80 for http, 443 for https) dropped;
3. dot segments resolved, percent-escapes made canonical, and a trailing slash
   dropped (``/post/`` and ``/post`` are one bookmark; the root stays ``/``);
4. tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``spm`` ...) removed,
   the order of the others kept;
5. the fragment ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import idna

MAX_URL_LENGTH = 8192
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say where a click came from. Exact names, plus
# any name that starts with one of the prefixes.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "spm",
        "scm",
        "wt.mc_id",
        "ref_src",
        "ref_url",
        "_ga",
        "_gl",
        "trk",
        "trkcampaign",
        "sc_campaign",
        "sc_channel",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__hs")

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]*[a-z0-9_])?$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_PERCENT_RE = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~"


class InvalidURL(ValueError):
    """A URL that cannot be saved; ``str()`` is a message for the person who sent it."""


def clean_url(raw: str) -> str:
    """Check ``raw`` and return it trimmed, or raise ``InvalidURL``."""
    url = (raw or "").strip()
    if not url:
        raise InvalidURL("The link is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"The link is longer than {MAX_URL_LENGTH} characters.")
    if _CONTROL_RE.search(url):
        raise InvalidURL("The link contains control characters.")
    match = _SCHEME_RE.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme not in ALLOWED_SCHEMES:
        if scheme and not _looks_like_host_and_port(url):
            raise InvalidURL(f"Only http and https links can be saved, not {scheme}: links.")
        raise InvalidURL("A link must start with http:// or https://.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidURL("The link has an invalid host or port.") from None
    if not parts.hostname:
        raise InvalidURL("The link has no host name.")
    if "%" in parts.hostname:  # an IPv6 zone: an interface of the machine it is opened on, never a site
        raise InvalidURL("The link has an invalid host or port.")
    _ascii_host(parts.hostname)  # raises InvalidURL for a host no DNS could hold
    if port == 0:
        raise InvalidURL("The link has an invalid port.")
    return url


def with_default_scheme(raw: str) -> str:
    """Prefix ``https://`` when someone typed ``example.com/page`` without a scheme."""
    url = (raw or "").strip()
    if url and (not _SCHEME_RE.match(url) or _looks_like_host_and_port(url)):
        return "https://" + url.lstrip("/")
    return url


def normalize_url(raw: str) -> str:
    """The de-duplication key of ``raw`` (see the module docstring)."""
    url = clean_url(raw)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = _ascii_host(parts.hostname or "")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = _canonical_escapes(parts.username, "")
        if parts.password is not None:
            userinfo += ":" + _canonical_escapes(parts.password, "")
        netloc = f"{userinfo}@{netloc}"
    path = _canonical_path(parts.path)
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_hash(key: str) -> str:
    """A fixed-size digest of a normalised URL, for the per-owner unique index."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def fallback_title(url: str) -> str:
    """A readable stand-in title: host and path, e.g. ``example.com/blog/post``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return url
    if host.startswith("xn--") or ".xn--" in host:
        with contextlib.suppress(idna.IDNAError, UnicodeError):
            host = idna.decode(host)
    if host.startswith("www."):
        host = host[4:]
    path = unquote(parts.path or "").rstrip("/")
    return (host + path)[:300] or url[:300]


def _looks_like_host_and_port(url: str) -> bool:
    """``localhost:8000/x`` parses as scheme ``localhost``; it is really a host."""
    return bool(re.match(r"^[a-zA-Z0-9.\-]+:\d+(?:[/?#]|$)", url))


def _ascii_host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise InvalidURL("The link has no host name.")
    if ":" in host or re.fullmatch(r"[0-9.]+", host):
        return host  # an IP address literal (IPv6 was inside brackets)
    if host.isascii() and all(_HOST_LABEL_RE.match(label) for label in host.split(".")):
        # Plain ASCII labels come out of IDNA unchanged, or are accepted below
        # when strict IDNA refuses them; skipping the encoder keeps bulk imports fast.
        return host
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        # Some real hosts break strict IDNA 2008 (underscores, emoji); accept
        # them when they are plain ASCII labels.
        if host.isascii() and all(_HOST_LABEL_RE.match(label) for label in host.split(".")):
            return host
        raise InvalidURL(f"{hostname!r} is not a valid host name.") from None
    return ascii_host


def _canonical_escapes(text: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, encode the rest."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_PERCENT_RE.sub(fix, text), safe=safe + "%")


def _canonical_path(path: str) -> str:
    path = _remove_dot_segments(_canonical_escapes(path, _PATH_SAFE))
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on the segments of an absolute path."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _strip_tracking(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = unquote(pair.split("=", 1)[0].replace("+", " ")).lower()
        if name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES):
            continue
        kept.append(_canonical_escapes(pair, _QUERY_SAFE))
    return "&".join(kept)

"""Why a fetch failed, as the pages and the bot tell it.

The fetcher records its reason in English on the row (``fetch_error``: the
same text as the ``error`` of ``manage.py fetch_metadata``, a fixed
interface, and what the logs show). It is translated when it is shown:
each reason the fetcher writes has a shape below, matched and worded again
through gettext in the active language, with its variable parts (an
address, a status code, the system's own words) kept as they are. A reason
of no known shape (one an older version recorded) is shown as recorded. A
new reason in the fetcher needs its shape here (tests/test_fetch_reasons.py
lists them).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils.translation import gettext, gettext_noop, ngettext

# The reasons of a page that was read but named itself nowhere (fetcher.py).
_MISSING_TITLE_PREFIX = "no title"

# (the fetcher's English, its variable parts as (?P<name>...); the msgid that words it, same names)
_SHAPES: list[tuple[str, str]] = [
    (
        r"blocked: (?P<scheme>.+) scheme, only http and https are fetched",
        gettext_noop("blocked: %(scheme)s scheme, only http and https are fetched"),
    ),
    (r"blocked: (?P<address>.+) is not a public address", gettext_noop("blocked: %(address)s is not a public address")),
    (
        r"blocked: a link cannot name a network interface",
        gettext_noop("blocked: a link cannot name a network interface"),
    ),
    (r"not a valid URL", gettext_noop("not a valid URL")),
    (r"no host in the URL", gettext_noop("no host in the URL")),
    (r"bad port in the URL", gettext_noop("bad port in the URL")),
    (r"bad host name", gettext_noop("bad host name")),
    (r"bad chunked encoding", gettext_noop("bad chunked encoding")),
    (r"bad compressed body", gettext_noop("bad compressed body")),
    (r"response headers too large", gettext_noop("response headers too large")),
    (r"not an HTTP response", gettext_noop("not an HTTP response")),
    (r"connection closed in the middle of the body", gettext_noop("connection closed in the middle of the body")),
    (r"connection closed before the response headers", gettext_noop("connection closed before the response headers")),
    (r"TLS certificate refused: (?P<detail>.*)", gettext_noop("TLS certificate refused: %(detail)s")),
    (r"TLS failed: (?P<detail>.*)", gettext_noop("TLS failed: %(detail)s")),
    (r"could not resolve (?P<host>\S+): name not found", gettext_noop("could not resolve %(host)s: name not found")),
    (r"could not resolve (?P<host>\S+): (?P<detail>.*)", gettext_noop("could not resolve %(host)s: %(detail)s")),
    (r"could not resolve (?P<host>\S+)", gettext_noop("could not resolve %(host)s")),
    (r"could not connect to (?P<host>\S+): (?P<detail>.*)", gettext_noop("could not connect to %(host)s: %(detail)s")),
    (r"connection failed: (?P<detail>.*)", gettext_noop("connection failed: %(detail)s")),
    (r"timeout: the page took too long", gettext_noop("timeout: the page took too long")),
    (r"timeout: looking up the host took too long", gettext_noop("timeout: looking up the host took too long")),
    (r"timeout: connecting took too long", gettext_noop("timeout: connecting took too long")),
    (r"timeout: TLS handshake took too long", gettext_noop("timeout: TLS handshake took too long")),
    (r"timeout: sending the request took too long", gettext_noop("timeout: sending the request took too long")),
    (r"too many redirects \(more than (?P<count>\d+)\)", gettext_noop("too many redirects (more than %(count)s)")),
    (r"HTTP (?P<status>\d+) without a usable Location", gettext_noop("HTTP %(status)s without a usable Location")),
    (r"HTTP (?P<status>\d+)", gettext_noop("HTTP %(status)s")),
    (r"no title: not an HTML page", gettext_noop("no title: not an HTML page")),
    (r"no title found in the page", gettext_noop("no title found in the page")),
]
_GAVE_UP = re.compile(r"gave up after (?P<count>\d+) attempts")


def is_missing_title(error: str) -> bool:
    """Whether the page was reached and only its title was missing (a title the person typed makes up for it)."""
    return error.startswith(_MISSING_TITLE_PREFIX)


def is_not_public(error: str) -> bool:
    """Whether the fetcher refused the page's address as not public (loopback, a private network, ...)."""
    return error.startswith("blocked: ") and error.endswith(" is not a public address")


def describe(error: str) -> str:
    """``error`` (as the fetcher recorded it) in the active language; unknown shapes as they are."""
    gave_up = _GAVE_UP.fullmatch(error)
    if gave_up:
        count = int(gave_up["count"])
        return ngettext("gave up after %(count)d attempt", "gave up after %(count)d attempts", count) % {"count": count}
    for pattern, msgid in _compiled():
        found = pattern.fullmatch(error)
        if found:
            return gettext(msgid) % found.groupdict()
    return error


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern), msgid) for pattern, msgid in _SHAPES]

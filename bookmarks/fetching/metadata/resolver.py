"""Host names to addresses for the fetcher, ended at the fetch's deadline.

Why not ``socket.getaddrinfo``: the C library's lookup cannot be interrupted.
Run in a thread pool so the fetch could give up on time, a lookup that never
answers still kept its pool thread for the resolver's own timeouts (about
10 s), and 16 links to such names starved every other fetch. Here c-ares
(``pycares``, already pinned as slixmpp's resolver) does the lookup: it reads
``/etc/hosts`` (``localhost`` included), ``/etc/nsswitch.conf`` and
``/etc/resolv.conf`` (servers, search list, ndots, timeouts) as the C library
does, and the fetch stops waiting for it at its deadline. One channel per
process serves every lookup on c-ares' own event thread (no thread per
lookup, and answers are cached for their TTL); a lookup that the deadline
cut short stays with c-ares until its own timeout (about 12 s with the
defaults) but holds no thread of ours, so no pool can fill up. (A channel
per lookup, closed at the deadline, ended queries exactly there, but its
thread and sockets were torn down behind the lookups; under thousands of
lookups a second that teardown fell behind.)

``FETCH_DNS_SERVERS`` (``ip`` or ``ip:port``, comma-separated) replaces the
servers of ``/etc/resolv.conf``; ``/etc/hosts`` is still read first.

The address policy is not applied here: the caller checks every address this
returns and connects to exactly one of them (``client._connect``).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
import time

import pycares
from django.conf import settings

from bookmarks.fetching.metadata.errors import ConnectionFailed, FetchError, Timeout

__all__ = ["LOOKUP_TIMEOUT", "resolve"]

LOOKUP_TIMEOUT = "timeout: looking up the host took too long"
# Digits, hex digits after 0x, and dots: what inet_aton may read as an IPv4 address.
_IPV4_SPELLING = re.compile(r"[0-9a-fA-FxX.]+")


def resolve(host: str, port: int, deadline: float) -> list[tuple]:
    """``socket.getaddrinfo``-shaped stream addresses of ``host`` (ASCII), found before ``deadline`` (monotonic).

    IP addresses, the old IPv4 spellings included (``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, read as the C library and browsers read them),
    need no lookup. Raises ``Timeout`` when the deadline passes or the servers
    do not answer, ``ConnectionFailed`` when the name does not resolve,
    ``FetchError`` for a name no resolver accepts.
    """
    literal = _ip_literal(host)
    if literal is not None:
        return socket.getaddrinfo(literal, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    if deadline <= time.monotonic():
        raise Timeout(LOOKUP_TIMEOUT)
    answer = _look_up(host, port, deadline)
    if answer.error is not None:
        raise _lookup_error(host, answer.error)
    infos = [
        (node.family, node.socktype, node.protocol, "", (node.addr[0].decode("ascii"), *node.addr[1:]))
        for node in answer.result.nodes
        if node.socktype == socket.SOCK_STREAM
    ]
    if not infos:
        raise ConnectionFailed(f"could not resolve {host}")
    return infos


class _Answer:
    """What c-ares' callback handed over (in c-ares' thread), and when."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: pycares.AddrInfoResult | None = None
        self.error: int | None = None

    def __call__(self, result: pycares.AddrInfoResult | None, error: int | None) -> None:
        if not self.done.is_set():
            self.result, self.error = result, error
            self.done.set()


def _look_up(host: str, port: int, deadline: float) -> _Answer:
    answer = _Answer()
    try:
        _channel().getaddrinfo(host, port, type=socket.SOCK_STREAM, callback=answer)
    except (ValueError, UnicodeError, RuntimeError):
        raise FetchError("bad host name") from None
    except pycares.AresError as error:  # no usable resolver configuration at all
        raise ConnectionFailed(f"could not resolve {host}: {error}") from None
    if not answer.done.wait(max(0.0, deadline - time.monotonic())):
        # The query stays with c-ares until its own timeout (resolv.conf's, about 12 s with the
        # defaults); it holds no thread of ours, and its late answer goes to an _Answer nobody reads.
        raise Timeout(LOOKUP_TIMEOUT)
    return answer


_channels: dict[tuple[int, tuple[str, ...]], pycares.Channel] = {}
_channels_lock = threading.Lock()


def _channel() -> pycares.Channel:
    """The process's c-ares channel for the configured servers (thread-safe; one c-ares thread serves all lookups).

    Keyed by process id too: a channel made before a fork has no thread in the child.
    """
    key = (os.getpid(), tuple(settings.FETCH_DNS_SERVERS))
    with _channels_lock:
        channel = _channels.get(key)
        if channel is None:
            for old_key in [k for k in _channels if k[0] == key[0]]:  # the servers setting changed (tests)
                _channels.pop(old_key).close()
            channel = _channels[key] = pycares.Channel(servers=list(key[1]) or None)
        return channel


def _lookup_error(host: str, code: int) -> FetchError:
    if code in (pycares.errno.ARES_ETIMEOUT, pycares.errno.ARES_ECANCELLED):
        return Timeout(LOOKUP_TIMEOUT)
    if code == pycares.errno.ARES_EBADNAME:
        return FetchError("bad host name")
    if code in (pycares.errno.ARES_ENOTFOUND, pycares.errno.ARES_ENODATA, pycares.errno.ARES_ENONAME):
        return ConnectionFailed(f"could not resolve {host}: name not found")
    return ConnectionFailed(f"could not resolve {host}: {pycares.errno.strerror(code)}")


def _ip_literal(host: str) -> str | None:
    """``host`` as a plain IP address when it spells one, else None (a name for the resolver)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _IPV4_SPELLING.fullmatch(host):
        return None
    try:
        # inet_aton reads the legacy forms as glibc and WHATWG URLs do (0177 is octal);
        # c-ares would read "0177.0.0.1" as 177.0.0.1 and send "127.1" to DNS.
        return socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, ValueError):
        return None

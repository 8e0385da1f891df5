"""A small HTTP/1.1 client that connects only to vetted addresses, within a deadline.

Why not ``urllib``/``requests``: the address must be checked after DNS and the
socket connected to exactly that address; one deadline must bound the whole
exchange (a server sending a byte a second defeats per-read timeouts); and
decompression must stop at a byte budget. Proxies from the environment are
never used.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import brotli
import idna

from bookmarks.fetching.metadata.errors import ConnectionFailed, FetchError, Timeout
from bookmarks.fetching.metadata.policy import Blocked, check_address
from bookmarks.fetching.metadata.resolver import resolve

__all__ = ["ConnectionFailed", "FetchError", "Response", "Timeout", "open_url"]

USER_AGENT = "Mozilla/5.0 (compatible; favsite/1.0; bookmark title fetcher)"
MAX_HEADER_BYTES = 64 * 1024
READ_SIZE = 64 * 1024
_SAFE_PATH = "/%:@!$&'()*+,;=-._~?"


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    sock: socket.socket = field(repr=False)
    deadline: float = field(repr=False)
    _buffer: bytes = field(default=b"", repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str:
        match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        return match.group(1).lower() if match else ""

    def close(self) -> None:
        self.sock.close()

    def iter_body(self, max_piece: int = READ_SIZE) -> Iterator[bytes]:
        """The decompressed body in pieces of at most ``max_piece`` bytes (the caller stops when it has enough)."""
        decoder = _decoder(self.headers.get("content-encoding", ""))
        for raw in self._iter_raw():
            yield from decoder(raw, max_piece)

    def _iter_raw(self) -> Iterator[bytes]:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            yield from self._iter_chunked()
            return
        length = self.headers.get("content-length", "")
        remaining = int(length) if length.strip().isdigit() else None
        if self._buffer:
            piece, self._buffer = self._buffer, b""
            if remaining is not None:
                piece = piece[:remaining]
                remaining -= len(piece)
            yield piece
        while remaining is None or remaining > 0:
            piece = _recv(self.sock, self.deadline)
            if not piece:
                return
            if remaining is not None:
                piece = piece[:remaining]
                remaining -= len(piece)
            yield piece

    def _iter_chunked(self) -> Iterator[bytes]:
        buffer = self._buffer
        while True:
            while b"\r\n" not in buffer:
                if len(buffer) > 1024:
                    raise FetchError("bad chunked encoding")
                buffer += self._more()
            size_line, buffer = buffer.split(b"\r\n", 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise FetchError("bad chunked encoding") from None
            if size == 0:
                return
            while size > 0:
                if not buffer:
                    buffer = self._more()
                piece, buffer = buffer[:size], buffer[size:]
                size -= len(piece)
                yield piece
            while len(buffer) < 2:
                buffer += self._more()
            buffer = buffer[2:]

    def _more(self) -> bytes:
        data = _recv(self.sock, self.deadline)
        if not data:
            raise ConnectionFailed("connection closed in the middle of the body")
        return data


def open_url(url: str, deadline: float) -> Response:
    """Send a GET for ``url`` and read the status line and headers, before ``deadline`` (monotonic).

    Raises ``Blocked`` (policy), ``Timeout``, ``ConnectionFailed`` or ``FetchError``.
    """
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # a redirect to "http://[::1/", say
        raise FetchError("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Blocked(f"blocked: {scheme or 'no'} scheme, only http and https are fetched")
    if not hostname:
        raise FetchError("no host in the URL")
    if "%" in hostname:  # an IPv6 zone ("[::1%25lo]") names one of our own network interfaces
        raise Blocked("blocked: a link cannot name a network interface")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError("bad port in the URL") from None
    host = _ascii_host(hostname)
    sock = _connect(host, port, deadline)
    try:
        if scheme == "https":
            sock = _wrap_tls(sock, host, deadline)
        path = quote(parts.path or "/", safe=_SAFE_PATH)
        if parts.query:
            path += f"?{quote(parts.query, safe=_SAFE_PATH)}"
        host_header = f"[{host}]" if ":" in host else host
        if parts.port:
            host_header += f":{parts.port}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.5\r\n"
            "Accept-Language: en,zh;q=0.8,*;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
            "Connection: close\r\n\r\n"
        )
        _send(sock, request.encode("ascii"), deadline)
        status, headers, rest = _read_head(sock, deadline)
        return Response(url=url, status=status, headers=headers, sock=sock, deadline=deadline, _buffer=rest)
    except BaseException:
        sock.close()
        raise


def _ascii_host(hostname: str) -> str:
    try:
        hostname.encode("ascii")
        return hostname
    except UnicodeEncodeError:
        try:
            return idna.encode(hostname, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise FetchError("bad host name") from None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout("timeout: the page took too long")
    return left


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    """A socket connected to a vetted address of ``host``: every address it resolves to must pass."""
    infos = resolve(host, port, deadline)
    for info in infos:
        check_address(info[4][0])  # all of them, or DNS could pick a private one on a later try
    last_error: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(address)
            return sock
        except TimeoutError:
            sock.close()
            raise Timeout("timeout: connecting took too long") from None
        except OSError as error:
            sock.close()
            last_error = error
    raise ConnectionFailed(f"could not connect to {host}: {last_error}")


def _wrap_tls(sock: socket.socket, host: str, deadline: float) -> socket.socket:
    context = ssl.create_default_context()
    try:
        sock.settimeout(_remaining(deadline))
        return context.wrap_socket(sock, server_hostname=host)
    except TimeoutError:
        raise Timeout("timeout: TLS handshake took too long") from None
    except ssl.SSLCertVerificationError as error:
        raise FetchError(f"TLS certificate refused: {error.verify_message}") from None
    except (ssl.SSLError, OSError) as error:
        raise ConnectionFailed(f"TLS failed: {error}") from None


def _send(sock: socket.socket, data: bytes, deadline: float) -> None:
    try:
        sock.settimeout(_remaining(deadline))
        sock.sendall(data)
    except TimeoutError:
        raise Timeout("timeout: sending the request took too long") from None
    except OSError as error:
        raise ConnectionFailed(f"connection failed: {error}") from None


def _recv(sock: socket.socket, deadline: float) -> bytes:
    try:
        sock.settimeout(_remaining(deadline))
        return sock.recv(READ_SIZE)
    except TimeoutError:
        raise Timeout("timeout: the page took too long") from None
    except OSError as error:
        raise ConnectionFailed(f"connection failed: {error}") from None


def _read_head(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    buffer = b""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head, rest = buffer[:end], buffer[end + 4 :]
            status, headers = _parse_head(head)
            if 100 <= status < 200:  # "100 Continue" and friends: the real answer follows
                buffer = rest
                continue
            return status, headers, rest
        if len(buffer) > MAX_HEADER_BYTES:
            raise FetchError("response headers too large")
        data = _recv(sock, deadline)
        if not data:
            raise ConnectionFailed("connection closed before the response headers")
        buffer += data


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})", lines[0])
    if not match:
        raise FetchError("not an HTTP response")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(match.group(1)), headers


def _decoder(encoding: str):
    """A function (raw bytes, max piece size) -> decompressed pieces, each at most that size.

    Output is produced in bounded pieces, so a compression bomb costs only what
    the caller chooses to read.
    """
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        state = {"d": zlib.decompressobj(wbits), "raw_deflate_tried": encoding != "deflate"}

        def inflate(raw: bytes, limit: int) -> Iterator[bytes]:
            data = raw
            while data:
                try:
                    out = state["d"].decompress(data, limit)
                except zlib.error:
                    if state["raw_deflate_tried"]:
                        raise FetchError("bad compressed body") from None
                    # "deflate" servers often send raw deflate without the zlib header.
                    state["d"], state["raw_deflate_tried"] = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                state["raw_deflate_tried"] = True
                if out:
                    yield out
                data = state["d"].unconsumed_tail
                if state["d"].eof:
                    return

        return inflate
    if encoding == "br":
        decompressor = brotli.Decompressor()

        def unbrotli(raw: bytes, limit: int) -> Iterator[bytes]:
            try:
                out = decompressor.process(raw, output_buffer_limit=limit)
                while True:
                    if out:
                        yield out
                    if decompressor.can_accept_more_data() or decompressor.is_finished():
                        return
                    out = decompressor.process(b"", output_buffer_limit=limit)
            except brotli.error:
                raise FetchError("bad compressed body") from None

        return unbrotli

    def identity(raw: bytes, limit: int) -> Iterator[bytes]:
        for start in range(0, len(raw), limit):
            yield raw[start : start + limit]

    return identity

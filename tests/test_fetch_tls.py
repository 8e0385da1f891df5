"""HTTPS pages: a local TLS server whose test CA the fetcher trusts (trustme), and the certificates it refuses."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from bookmarks.fetching.metadata import fetch_page_metadata
from tests.fixtures.pages import PageServer

PAGE = "<!doctype html><html><head><title>Over TLS</title></head><body>x</body></html>"


@pytest.fixture
def ca(tmp_path, monkeypatch):
    """A test CA the fetcher trusts (``SSL_CERT_FILE``, read by each new TLS context)."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


@pytest.fixture
def serve(settings):
    """``serve(certificate)``: an HTTPS page server on loopback with that certificate; stopped after the test."""
    settings.FETCH_ALLOW_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    servers: list[PageServer] = []

    def start(certificate) -> PageServer:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        server = PageServer(tls=context).start()
        server.route("/", PAGE)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_an_https_page_with_a_trusted_certificate_is_read(ca, serve):
    server = serve(ca.issue_cert("127.0.0.1"))
    result = fetch_page_metadata(server.url("/"))
    assert (result.ok, result.title) == (True, "Over TLS")


def test_an_expired_certificate_is_refused_with_a_clear_reason(ca, serve):
    past = datetime.now(UTC) - timedelta(days=2)
    server = serve(ca.issue_cert("127.0.0.1", not_before=past - timedelta(days=30), not_after=past))
    result = fetch_page_metadata(server.url("/"))
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == "TLS certificate refused: certificate has expired"


def test_a_certificate_for_another_host_is_refused_with_a_clear_reason(ca, serve):
    server = serve(ca.issue_cert("other.example"))
    result = fetch_page_metadata(server.url("/"))
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("TLS certificate refused: ")
    assert "127.0.0.1" in result.error


def test_a_certificate_from_an_unknown_authority_is_refused(serve, tmp_path, monkeypatch):
    stranger = trustme.CA()  # nobody trusts it
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty.pem"))
    (tmp_path / "empty.pem").write_text("")
    server = serve(stranger.issue_cert("127.0.0.1"))
    result = fetch_page_metadata(server.url("/"))
    assert result.error.startswith("TLS certificate refused: ")

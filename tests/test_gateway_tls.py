"""The gateway over TLS: XMPP_TLS=starttls and direct against a Prosody whose certificate it trusts, and one it
does not (devstack's certificate for the XMPP domain, trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import pytest

from devstack.prosody import LocalProsody
from tests.conftest import free_port
from tests.fixtures.prosody import ChatUser, Gateway, gateway_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tls_prosody(tmp_path):
    """A Prosody of its own with a certificate, STARTTLS on its port and direct TLS on a second; stopped after."""
    server = LocalProsody(tmp_path / "prosody", free_port(), tls=True, direct_tls_port=free_port())
    server.write_config()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        print(f"--- prosody log ---\n{server.log_tail(60)}")


@pytest.fixture
def run_gateway(tls_prosody, tmp_path):
    """``run_gateway(**env)``: the gateway on ``tls_prosody`` with these settings, online; stopped by PID after."""
    gateways: list[Gateway] = []

    def start(timeout: float = 30.0, **extra: str) -> Gateway:
        gateway = Gateway(tls_prosody, tmp_path / f"gateway{len(gateways)}.log", gateway_env(tls_prosody, **extra))
        gateways.append(gateway)
        gateway.start(timeout)
        return gateway

    yield start
    for gateway in gateways:
        gateway.stop()
        print(f"--- gateway log ---\n{gateway.log()[-3000:]}")


def help_answer(tls_prosody, loop, gateway) -> str:
    tls_prosody.register("alice", "pw")
    person = ChatUser(loop, tls_prosody, "alice", "pw").connect()
    try:
        return person.reply_to(gateway, "help")
    finally:
        person.disconnect()


def test_the_gateway_logs_in_over_starttls_with_a_certificate_it_trusts(tls_prosody, run_gateway, _client_loop):
    gateway = run_gateway(XMPP_TLS="starttls", SSL_CERT_FILE=str(tls_prosody.certificate_path))
    assert help_answer(tls_prosody, _client_loop, gateway).startswith("Send me a link")


def test_the_gateway_logs_in_over_direct_tls_with_a_certificate_it_trusts(tls_prosody, run_gateway, _client_loop):
    gateway = run_gateway(
        XMPP_TLS="direct",
        XMPP_SERVER=f"{tls_prosody.host}:{tls_prosody.direct_tls_port}",
        SSL_CERT_FILE=str(tls_prosody.certificate_path),
    )
    assert help_answer(tls_prosody, _client_loop, gateway).startswith("Send me a link")


def test_the_gateway_refuses_a_certificate_it_does_not_trust(tls_prosody, run_gateway):
    with pytest.raises(TimeoutError):
        run_gateway(timeout=8.0, XMPP_TLS="starttls")  # the system's authorities only: the test certificate fails

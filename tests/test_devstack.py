"""``make run``'s helper: it starts Redis, a mail catcher and Prosody when missing, and stops them again."""

from __future__ import annotations

import mailbox
import os
import shutil
import socket
import ssl

import pytest
import redis
from django.core import mail

from bookmarks.email_url import parse_email_url
from bookmarks.models import Bookmark
from devstack import processes as devstack_processes
from devstack import stack as devstack
from devstack.processes import port_answers
from imgateway.linking import link_verified
from tests.conftest import free_port, make_user
from tests.fixtures.celery import celery_subprocess_env, wait_for
from tests.fixtures.prosody import REDIS_PREFIX, ChatUser, Gateway, send_with_go_sendxmpp


@pytest.fixture
def stack(tmp_path):
    redis_port, xmpp_port = free_port(), free_port()
    env = {"PATH": os.environ["PATH"], "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    started = devstack.prepare(tmp_path / "var", env=env, xmpp_port=xmpp_port, smtp_port=free_port())
    yield started
    started.stop()


def test_it_starts_a_private_redis_when_none_answers(stack):
    assert stack.redis is not None
    assert redis.Redis.from_url(stack.env["REDIS_URL"]).ping()


def test_it_starts_prosody_and_the_bot_can_log_in(stack, _client_loop):
    assert stack.env["XMPP_JID"] == "favsite@localhost"
    assert stack.env["XMPP_SERVER"] == stack.prosody.address
    bot = ChatUser(_client_loop, stack.prosody, "favsite", stack.env["XMPP_PASSWORD"], resource="favsite").connect()
    assert bot.client.boundjid.bare == "favsite@localhost"
    bot.disconnect()


def test_the_demo_chat_account_can_log_in(stack, _client_loop):
    jid, password = stack.demo_chat
    demo = ChatUser(_client_loop, stack.prosody, jid.split("@")[0], password).connect()
    assert demo.client.boundjid.bare == jid
    demo.disconnect()


def test_the_banner_names_the_site_the_logins_and_the_bot(stack):
    text = devstack.banner(stack, ("demo", "pw"))
    assert "http://127.0.0.1:8000/" in text
    assert "demo / pw" in text and "favsite@localhost" in text
    assert stack.demo_chat[0] in text


def test_stop_stops_every_service(tmp_path):
    redis_port, xmpp_port, smtp_port = free_port(), free_port(), free_port()
    env = {"PATH": os.environ["PATH"], "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    stack = devstack.prepare(tmp_path / "var", env=env, xmpp_port=xmpp_port, smtp_port=smtp_port)
    processes = [stack.redis.process, stack.prosody.process, stack.mail.process]

    stack.stop()

    assert all(process.poll() is not None for process in processes)
    assert not any(port_answers("127.0.0.1", port) for port in (redis_port, xmpp_port, smtp_port))


def test_a_configured_xmpp_account_and_mail_server_are_used_as_they_are(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "XMPP_JID": "bot@example.org",
        "EMAIL_URL": "smtp+starttls://mail.example.org",
    }
    stack = devstack.prepare(tmp_path / "var", env=env, xmpp_port=free_port(), smtp_port=free_port())
    assert (stack.redis, stack.prosody, stack.mail, stack.bot_jid) == (None, None, None, "bot@example.org")
    assert stack.env["EMAIL_URL"] == "smtp+starttls://mail.example.org"


def test_a_taken_xmpp_port_is_reported_clearly(tmp_path):
    env = {"PATH": os.environ["PATH"], "REDIS_URL": "redis://127.0.0.1:6379/0"}
    with pytest.raises(devstack_processes.StackError, match="127.0.0.1:6379 is taken"):
        devstack.prepare(tmp_path / "var", env=env, xmpp_port=6379, smtp_port=free_port())


def test_a_taken_mail_port_is_reported_clearly_and_nothing_is_left_running(tmp_path):
    env = {"PATH": os.environ["PATH"], "REDIS_URL": "redis://127.0.0.1:6379/0", "XMPP_JID": "bot@example.org"}
    with pytest.raises(devstack_processes.StackError, match="127.0.0.1:6379 is taken .* set EMAIL_URL"):
        devstack.prepare(tmp_path / "var", env=env, xmpp_port=free_port(), smtp_port=6379)


def test_mail_sent_to_its_email_url_lands_as_a_file_under_var(stack):
    found = parse_email_url(stack.env["EMAIL_URL"])
    connection = mail.get_connection(
        found["EMAIL_DELIVERY_BACKEND"], host=found["EMAIL_HOST"], port=found["EMAIL_PORT"], use_tls=False
    )
    mail.EmailMessage("Reset", "Open this link", "noreply@localhost", ["demo@localhost"], connection=connection).send()

    inbox = mailbox.Maildir(stack.mail.directory, create=False)
    received = wait_for(lambda: [message["Subject"] for message in inbox], bool)
    assert received == ["Reset"]
    [file] = stack.mail.inbox.iterdir()  # what the banner tells to read
    assert "Open this link" in file.read_text()


def test_the_banner_says_where_to_read_the_mails(stack):
    text = devstack.banner(stack, ("demo", "pw"))
    assert stack.env["EMAIL_URL"] in text
    assert f"{stack.mail.inbox}/" in text


def test_make_run_starts_two_worker_processes_by_default():
    command = devstack.procfile_command()
    assert command[command.index("-c") + 1] == "worker=2"


def test_worker_processes_follows_its_setting(settings):
    settings.WORKER_PROCESSES = 3
    command = devstack.procfile_command()
    assert command[command.index("-c") + 1] == "worker=3"


def test_its_prosody_completes_starttls_with_the_certificate_kept_under_var(stack):
    def read_until(sock, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            data += sock.recv(4096)
        return data

    with socket.create_connection((stack.prosody.host, stack.prosody.port), timeout=5) as sock:
        sock.sendall(
            b"<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' "
            b"xmlns:stream='http://etherx.jabber.org/streams'>"
        )
        read_until(sock, b"</stream:features>")
        sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        assert b"<proceed" in read_until(sock, b"/>")
        context = ssl.create_default_context(cafile=stack.prosody.certificate_path)
        with context.wrap_socket(sock, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("go-sendxmpp") is None, reason="go-sendxmpp is not installed")
def test_go_sendxmpp_saves_a_link_over_starttls_through_the_make_run_stack(stack, tmp_path):
    """go-sendxmpp always negotiates STARTTLS: the stack's own Prosody, bot and demo chat account, as printed."""
    user = make_user("demo")
    demo_jid, demo_password = stack.demo_chat
    link_verified(user, demo_jid)
    env = celery_subprocess_env(
        **{name: stack.env[name] for name in ("XMPP_JID", "XMPP_PASSWORD", "XMPP_SERVER", "XMPP_TLS")},
        XMPP_REDIS_PREFIX=REDIS_PREFIX,
        LOG_FORMAT="plain",
        PYTHONUNBUFFERED="1",
    )
    gateway = Gateway(stack.prosody, tmp_path / "gateway.log", env)
    try:
        gateway.start()
        link = "https://example.com/over-starttls #tls"
        send_with_go_sendxmpp(demo_jid, demo_password, stack.prosody.address, stack.bot_jid, link, tmp_path)
        saved = wait_for(lambda: list(Bookmark.objects.filter(owner=user)), bool)
    finally:
        gateway.stop()
    assert saved[0].url == "https://example.com/over-starttls"


def test_links_in_mails_point_at_the_port_make_run_serves(tmp_path):
    env = {"PATH": os.environ["PATH"], "REDIS_URL": "redis://127.0.0.1:6379/0", "XMPP_JID": "bot@example.org"}
    env.update(EMAIL_URL="dummy:", FAVSITE_PORT="28000")
    stack = devstack.prepare(tmp_path / "var", env=env, xmpp_port=free_port(), smtp_port=free_port())
    assert stack.env["SITE_URL"] == "http://127.0.0.1:28000"

"""EMAIL_URL: one URL says where the worker sends mail; anything unclear is refused with its name."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookmarks.email_url import SMTP_BACKEND, default_from_address, parse_email_url


def test_plain_smtp_defaults_to_port_25_without_tls():
    found = parse_email_url("smtp://relay.example.org")
    assert (found["EMAIL_DELIVERY_BACKEND"], found["EMAIL_HOST"], found["EMAIL_PORT"]) == (
        SMTP_BACKEND,
        "relay.example.org",
        25,
    )
    assert (found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (False, False)


def test_starttls_takes_port_587_and_percent_encoded_credentials():
    found = parse_email_url("smtp+starttls://me%40example.org:p%40ss%2Fword@mail.example.org")
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (587, True, False)
    assert (found["EMAIL_HOST_USER"], found["EMAIL_HOST_PASSWORD"]) == ("me@example.org", "p@ss/word")


def test_smtps_takes_port_465_with_tls_from_the_start():
    found = parse_email_url("smtps://mail.example.org")
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (465, False, True)


def test_a_port_and_a_timeout_are_read():
    found = parse_email_url("smtp://127.0.0.1:8025?timeout=3.5")
    assert (found["EMAIL_PORT"], found["EMAIL_TIMEOUT"]) == (8025, 3.5)


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console:", "django.core.mail.backends.console.EmailBackend"),
        ("dummy:", "django.core.mail.backends.dummy.EmailBackend"),
        ("", ""),
    ],
)
def test_console_dummy_and_unset(url, backend):
    assert parse_email_url(url)["EMAIL_DELIVERY_BACKEND"] == backend


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org", "must start with smtp://"),
        ("smtp://", "names no mail server"),
        ("smtp://mail.example.org:99999", "port that is not a number"),
        ("smtp://mail.example.org?tls=1", "unknown parameter 'tls'"),
        ("smtp://mail.example.org?timeout=soon", "timeout must be a number"),
        ("console:stdout", "takes nothing after it"),
    ],
)
def test_unclear_urls_are_refused_with_a_message_naming_email_url(url, message):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL") as refused:
        parse_email_url(url)
    assert message in str(refused.value)


def test_a_refusal_never_repeats_the_password():
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_email_url("smtp://user:s3cret@mail.example.org:notaport")
    assert "s3cret" not in str(refused.value)


def test_the_default_sender_uses_the_site_host():
    assert default_from_address("https://bookmarks.example.org") == "favsite <noreply@bookmarks.example.org>"
    assert default_from_address("http://127.0.0.1:8000") == "favsite <noreply@localhost>"

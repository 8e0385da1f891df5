"""Mail sent by the worker (bookmarks.mail): what it does when the mail server refuses, is away, or mail is off."""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from bookmarks.mail import send_email, to_payload
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def a_message(**extra) -> mail.EmailMultiAlternatives:
    return mail.EmailMultiAlternatives("Hello", "Plain text", None, ["alice@example.org"], **extra)


def test_a_permanent_refusal_is_logged_and_not_tried_again(smtp_server, caplog):
    smtp_server.refuse_next(1, "550 5.1.1 No such user here")
    result = send_email.apply((to_payload(a_message()),))
    assert result.get() == "refused"
    assert smtp_server.received.refusals == 1 and smtp_server.messages == []
    assert "refused the mail (550" in caplog.text


def test_a_mail_server_that_is_away_gets_the_mail_when_it_is_back(smtp_server, celery_worker, caplog):
    smtp_server.stop()
    a_message().send()
    wait_for(lambda: caplog.text, lambda text: "Mail not sent yet (the mail server did not answer" in text)

    smtp_server.start()

    assert smtp_server.wait_for_mail()["Subject"] == "Hello"


def test_html_parts_attachments_and_headers_arrive_whole(smtp_server, celery_worker):
    message = a_message(headers={"X-Favsite": "reset"}, reply_to=["help@example.org"])
    message.attach_alternative("<p>Rich text</p>", "text/html")
    message.attach("links.txt", b"https://example.com/\n", "text/plain")
    message.send()

    received = smtp_server.wait_for_mail()

    assert received.get_body(("html",)).get_content().strip() == "<p>Rich text</p>"
    [attachment] = list(received.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content().splitlines()) == ("links.txt", ["https://example.com/"])
    assert (received["X-Favsite"], received["Reply-To"]) == ("reset", "help@example.org")


def test_with_mail_off_nothing_is_queued_and_a_warning_says_why(smtp_server, settings, caplog):
    settings.EMAIL_DELIVERY_BACKEND = ""
    with caplog.at_level(logging.WARNING, logger="bookmarks.mail"):
        assert a_message().send() == 0
    assert "Mail is off (EMAIL_URL is not set)" in caplog.text

"""Mail goes out through the worker: a web request only queues it.

``QueuedEmailBackend`` is the site's ``EMAIL_BACKEND``: ``send_messages``
turns each message into a plain JSON payload and queues the task
``bookmarks.mail.send_email`` with it (queue ``celery``). The worker rebuilds the message and
sends it with ``EMAIL_DELIVERY_BACKEND`` (SMTP, console or dummy, from
``EMAIL_URL``), retrying while the mail server is unreachable or answers
"try again later" (4xx). With mail off (no ``EMAIL_URL`` in production) a
message is dropped and a warning says so.
"""

from __future__ import annotations

import base64
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)

# A mail is tried again after EMAIL_RETRY_DELAY seconds, then twice that, ..., at most every 5 minutes:
# eight retries cover about 25 minutes of a mail server being away. Below the broker's visibility timeout.
MAIL_RETRIES = 8
MAIL_RETRY_DELAY_MAX = 300


def mail_is_on() -> bool:
    """Whether mail can be sent at all (``EMAIL_URL`` is set, or DEBUG prints it)."""
    return bool(settings.EMAIL_DELIVERY_BACKEND)


class QueuedEmailBackend(BaseEmailBackend):
    """Queues every message for the worker; never talks SMTP itself."""

    def send_messages(self, email_messages) -> int:
        queued = 0
        for message in email_messages:
            if not message.recipients():
                continue
            if not mail_is_on():
                log.warning("Mail is off (EMAIL_URL is not set): a mail was not sent")
                continue
            try:
                # The arguments carry the reset link: keep them out of Celery's logs and events.
                send_email.apply_async((to_payload(message),), argsrepr="(a mail)")
            except Exception:
                if not self.fail_silently:
                    raise
                log.exception("Could not queue a mail")
                continue
            queued += 1
        return queued


def to_payload(message: mail.EmailMessage) -> dict:
    """What the worker needs to rebuild ``message``, JSON only (attachments base64-encoded)."""
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email or settings.DEFAULT_FROM_EMAIL,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": {str(name): str(value) for name, value in message.extra_headers.items()},
        "alternatives": [[str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])],
        "attachments": [_attachment(item) for item in message.attachments],
    }


def _attachment(item) -> list:
    filename, content, mimetype = item
    if content is None or filename is None:
        raise ValueError("only attachments given as (filename, content, mimetype) can be queued")
    data = content.encode() if isinstance(content, str) else bytes(content)
    return [filename, base64.b64encode(data).decode("ascii"), mimetype]


def from_payload(payload: dict, connection=None) -> mail.EmailMultiAlternatives:
    message = mail.EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload["cc"],
        bcc=payload["bcc"],
        reply_to=payload["reply_to"],
        headers=payload["headers"],
        connection=connection,
    )
    for content, mimetype in payload["alternatives"]:
        message.attach_alternative(content, mimetype)
    for filename, data, mimetype in payload["attachments"]:
        message.attach(filename, base64.b64decode(data), mimetype)
    return message


class TryAgain(Exception):
    """The mail server could not take the message now (unreachable, or a 4xx answer)."""


def deliver(payload: dict) -> str:
    """Send one queued message with ``EMAIL_DELIVERY_BACKEND``: "sent", "refused", "off"; ``TryAgain`` to retry.

    A permanent refusal (5xx: unknown recipient, authentication failed) is
    logged and not retried: sending again would get the same answer.
    """
    if not mail_is_on():
        log.warning("Mail is off (EMAIL_URL is not set): a queued mail was not sent")
        return "off"
    connection = mail.get_connection(settings.EMAIL_DELIVERY_BACKEND)
    try:
        from_payload(payload, connection).send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        if any(code < 500 for code in codes):
            raise TryAgain(f"recipients refused for now: {codes}") from error
        log.error("The mail server refused every recipient (%s); mail not sent", codes)
        return "refused"
    except smtplib.SMTPResponseException as error:
        if error.smtp_code < 500:
            raise TryAgain(f"the mail server answered {error.smtp_code}") from error
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        log.error("The mail server refused the mail (%s %s); not sent", error.smtp_code, reply[:200])
        return "refused"
    except (smtplib.SMTPException, OSError) as error:
        raise TryAgain(f"the mail server did not answer: {error}") from error
    return "sent"


@shared_task(bind=True, max_retries=MAIL_RETRIES, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_email(self, payload: dict) -> str:
    """Send one queued mail; retried with growing delays while the mail server is away or busy."""
    try:
        return deliver(payload)
    except TryAgain as error:
        if self.request.retries >= MAIL_RETRIES:
            log.error("Mail not sent after %d attempts: %s", MAIL_RETRIES + 1, error)
            return "failed"
        log.warning("Mail not sent yet (%s); trying again", error)
        delay = min(settings.EMAIL_RETRY_DELAY * 2**self.request.retries, MAIL_RETRY_DELAY_MAX)
        raise self.retry(countdown=delay) from None

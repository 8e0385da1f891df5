"""Periodic work for the gateway, run by Celery beat."""

from celery import shared_task

from imgateway import outbox


@shared_task(name="imgateway.tasks.resend_confirmations")
def resend_confirmations() -> int:
    """Queue again confirmations that were never sent (see ``imgateway.outbox``)."""
    return outbox.resend_unsent()

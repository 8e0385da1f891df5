"""Periodic work for the gateway, run by Celery beat."""

from celery import shared_task

from imgateway import archive, confirmations


@shared_task(name="imgateway.tasks.resend_confirmations", ignore_result=True)
def resend_confirmations() -> int:
    """Name again the confirmations that were never sent (``imgateway.confirmations``), and forget
    the messages received longer ago than the catch-up window (``archive.forget_received_messages``)."""
    archive.forget_received_messages()
    return confirmations.resend_unsent()

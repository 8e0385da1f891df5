"""Periodic work for the gateway, run by Celery beat."""

from celery import shared_task

from imgateway import handling, outbox


@shared_task(name="imgateway.tasks.resend_confirmations")
def resend_confirmations() -> int:
    """The gateway's sweep: queue again confirmations that were never sent (see ``imgateway.outbox``),
    and forget commands handled long ago (``handling.forget_handled_commands``)."""
    handling.forget_handled_commands()
    return outbox.resend_unsent()

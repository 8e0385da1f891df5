"""Publishing tasks after a commit: many messages through one producer, a refusal logged, never raised."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from favsite.celery import app

log = logging.getLogger(__name__)


def publish(task: str, args: Iterable[tuple], *, then: str, **options: object) -> None:
    """Send ``task`` once per argument tuple (``options``: queue, priority). If the broker refuses, the
    rows stay as they are and the warning says what recovers them (``then``)."""
    args = list(args)
    try:
        with app.producer_or_acquire() as producer:
            for each in args:
                app.send_task(task, args=each, producer=producer, **options)
    except Exception:
        log.warning("could not queue %s for %s; %s", task.rsplit(".", 1)[-1], [a[0] for a in args], then, exc_info=True)

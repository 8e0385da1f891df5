"""The Celery app: ``celery -A favsite worker`` / ``celery -A favsite beat``."""

import os

from celery import Celery, signals

from favsite.logformat import QuietSweeps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")

app = Celery("favsite")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _transport_options(sender: Celery, **_kwargs: object) -> None:
    """kombu's stock Redis transport, with the visibility timeout and key prefix from the settings."""
    from django.conf import settings

    sender.conf.broker_transport_options = {
        "visibility_timeout": settings.TASK_VISIBILITY_TIMEOUT,
        "global_keyprefix": settings.TASK_KEY_PREFIX,
    }


@signals.after_setup_logger.connect
def _quiet_routine_tasks(logger, **_kwargs: object) -> None:
    """The worker's and beat's log handlers leave out the beat's routine tasks (``logformat.QuietSweeps``)."""
    from django.conf import settings

    routine = QuietSweeps(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
    for handler in logger.handlers:
        handler.addFilter(routine)


app.autodiscover_tasks()

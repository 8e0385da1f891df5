"""The Celery app: ``celery -A favsite worker`` / ``celery -A favsite beat``."""

import os

from celery import Celery

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


app.autodiscover_tasks()

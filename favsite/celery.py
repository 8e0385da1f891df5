"""The Celery app: ``celery -A favsite worker`` / ``celery -A favsite beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")

app = Celery("favsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""favsite: the Django project (wiring only; the logic lives in the apps)."""

from favsite.celery import app as celery_app

__all__ = ("celery_app",)

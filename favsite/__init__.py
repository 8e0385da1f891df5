"""favsite: the Django project (wiring only; the logic lives in the apps)."""

from favsite.celery import app as celery_app

__all__ = ("__version__", "celery_app")

# What the chat bot answers to a software version query (XEP-0092).
__version__ = "2026.12"

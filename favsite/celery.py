"""The Celery app: ``celery -A favsite worker`` / ``celery -A favsite beat``."""

import os
from collections.abc import Iterator, Mapping
from functools import cached_property

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")


class DjangoCeleryConfig(Mapping):
    """The ``CELERY_*`` Django settings, read once, the first time Celery asks.

    Celery reads its configuration on every task it sends and runs (six
    keys a send). Pointed at ``django.conf:settings`` itself, each read tried
    several spellings of the name on Django's lazy settings object, each
    miss an ``AttributeError``: that was 29% of the time to send a task, and
    the gateway sends one per saved link (docs/PERFORMANCE.md, ingest). The
    settings do not change while a process runs.
    """

    @cached_property
    def _values(self) -> dict[str, object]:
        from django.conf import settings

        return {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


app = Celery("favsite")
app.config_from_object(DjangoCeleryConfig(), namespace="CELERY")
app.autodiscover_tasks()

"""One JSON object per log line, for log collectors (LOG_FORMAT=json); runserver's lines without live polls;
Celery's without the beat's routine tasks; secret tokens left out of request lines."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Extras such as django.request's ``request`` carry the URL as well: the whole line is redacted.
        return RedactTokens.redact(json.dumps(entry, ensure_ascii=False, default=str))


class QuietPolls(logging.Filter):
    """Leaves out runserver's line for each answered poll of an open list page (``/bookmarks/live/``).

    Every open list tab polls once a second; a failing poll (4xx, 5xx) is still logged.
    The path is written out: settings load before the URLconf can be reversed.
    """

    POLL_PATH = "/bookmarks/live/"

    def filter(self, record: logging.LogRecord) -> bool:
        request_line = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        polled = f" {self.POLL_PATH}" in str(request_line)
        return not (polled and getattr(record, "status_code", 500) < 400)


class QuietSweeps(logging.Filter):
    """Leaves out Celery's lines for the beat's routine tasks (some run every 10 s); their failures still show."""

    def __init__(self, task_names: Iterable[str]) -> None:
        super().__init__()
        self.task_names = tuple(task_names)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not any(name in record.getMessage() for name in self.task_names)


class RedactTokens(logging.Filter):
    """Leaves the secrets out of request lines in the access logs (gunicorn's and runserver's).

    A feed's address holds its token (``/feeds/<token>/rss/``) and Pinboard
    clients send ``auth_token=user:TOKEN`` in the query string: either, in a
    log, is a key to someone's bookmarks. Gunicorn passes its atoms as a dict
    (``r`` request line, ``U`` path, ``q`` query), runserver a tuple.
    """

    PATTERNS = (
        (re.compile(r"/feeds/[^/?\s]+/"), "/feeds/[token]/"),
        (re.compile(r"(auth_token=)[^&\s]*", re.I), r"\1[redacted]"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            record.args = {key: self.redact(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self.redact(value) for value in record.args)
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        return True

    @classmethod
    def redact(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        for pattern, replacement in cls.PATTERNS:
            value = pattern.sub(replacement, value)
        return value

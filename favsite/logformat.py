"""One JSON object per log line, for log collectors (LOG_FORMAT=json); runserver's lines without live polls."""

from __future__ import annotations

import json
import logging
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
        return json.dumps(entry, ensure_ascii=False, default=str)


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

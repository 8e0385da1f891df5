"""A terminal progress bar for the import and export commands (written to stderr)."""

from __future__ import annotations

import time
from typing import Protocol


class Output(Protocol):
    """A management command's ``self.stderr`` (Django's ``OutputWrapper``)."""

    def write(self, msg: str = "", style_func: object = None, ending: str | None = None) -> None: ...

    def flush(self) -> None: ...


class ProgressBar:
    """``[#####.....]  52%  52,000/100,000`` redrawn in place, at most ten times a second."""

    WIDTH = 30

    def __init__(self, label: str, stream: Output):
        self.label = label
        self.stream = stream
        self._last_draw = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        share = done / total if total else 1.0
        filled = int(self.WIDTH * share)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"\r{self.label} [{bar}] {share:4.0%} {done:,}/{total:,}"
        self.stream.write(line, ending="\n" if done >= total else "")
        self.stream.flush()

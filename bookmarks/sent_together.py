"""Work a thread queues inside a block, sent in one go when the block ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class SentTogether(Generic[T]):
    """``add(item)`` sends at once (``send([item])``), or, inside ``with this():``, when the block ends.

    Items are kept per thread; nested blocks join the outer one. Used for the
    fetch tasks of a gateway batch (``services.fetches_sent_together``) and the
    confirmations of a group of fetch results (``imgateway.outbox``): one
    Redis round trip for many.
    """

    def __init__(self, send: Callable[[list[T]], None]) -> None:
        self.send = send
        self._local = threading.local()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if getattr(self._local, "pending", None) is not None:
            yield
            return
        self._local.pending = []
        try:
            yield
        finally:
            pending, self._local.pending = self._local.pending, None
            if pending:
                self.send(pending)

    def add(self, item: T) -> None:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self.send([item])
        else:
            pending.append(item)

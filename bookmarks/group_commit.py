"""Write work from many threads of one process in one transaction: group commit.

The worker's threads each finish a fetch and write its result: one
transaction each. On SQLite each waits its turn for the one write lock, and
while it holds the lock, each of its statements waits to get Python's GIL
back from the other threads; on PostgreSQL each pays its own BEGIN and
COMMIT. In the ingest benchmark the worker's threads spent most of their time
waiting for that lock (docs/PERFORMANCE.md, ingest).

``GroupCommit(write)``, then ``run(item)`` from any thread: the first thread
to arrive calls ``write(items)`` once, in one transaction, with its own item
and whatever other threads queued meanwhile; they wait and get their own
result (``write`` returns one per item, in order) or exception once it
committed. ``write`` handles the group as a set, in a fixed number of
statements however many items it holds: each statement gives up the GIL, and
taking it back while the other threads parse pages costs up to 5 ms, so a
statement per item made the writing thread the worker's bottleneck. Items
that arrive while a group is being written wait for the next one, written by
one of their own threads. If the group's transaction fails, each item is
written again alone (``write([item])``), in a transaction of its own, so one
failing item gets its own exception and costs the others nothing but a second
try. ``write`` must be safe to run twice (only its database effects are
rolled back).

Inside a caller's transaction an item is written alone at once: what it
writes must commit with the caller's, not with other threads'.

On PostgreSQL, which runs transactions side by side, grouping pays too: a
group's statements and its one commit cost the server a fraction of one
transaction per item, and the server's CPU is shared with everything else
on the machine (docs/PERFORMANCE.md, ingest).

``Gathered(handle)`` is the same gathering without the transaction: the
worker's fetches each read their bookmark first, and the reads that arrive
while one is running are made by one statement (``services.begin_fetch``).

``scopes``: context managers the writing thread enters around each group's
transaction and its commit hooks (the gateway's outbox sends the
confirmations a group's hooks queue in one Redis round trip).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connection, transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class _Entry:
    __slots__ = ("item", "done", "result", "result_set", "error")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.done = False
        self.result: Any = None
        self.result_set = False
        self.error: BaseException | None = None

    def set_result(self, result: Any) -> None:
        self.result, self.result_set = result, True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class Gathered(Generic[T, R]):
    """``run(item)`` from any thread: ``handle(items)`` is called by the first to arrive for itself and the others
    queued meanwhile (at most ``max_batch``); each gets its own result, or the exception ``handle`` raised.

    ``handle`` returns one result per item, in order. If it fails with a
    database error, each item is handled again alone (on a new connection if
    the first is no longer usable). Inside a caller's
    transaction an item is handled alone at once, on the caller's connection:
    it must see, and be part of, what the caller has not committed.
    """

    def __init__(self, handle: Callable[[list[T]], list[R]], max_batch: int = 64) -> None:
        self.handle = handle
        self.max_batch = max_batch
        self.cond = threading.Condition()
        self.queue: list[_Entry] = []
        self.busy = False

    def run(self, item: T) -> R:
        """``item`` handled, with those of other threads that arrived meanwhile; its result, or its exception."""
        if connection.in_atomic_block:
            return self.handle([item])[0]
        entry = _Entry(item)
        with self.cond:
            self.queue.append(entry)
            while self.busy and not entry.done:
                self.cond.wait()
            if entry.done:
                return entry.outcome()
            self.busy = True
            batch = self.queue[: self.max_batch]
            if entry not in batch:
                batch.append(entry)
            self.queue = [waiting for waiting in self.queue if waiting not in batch]
        try:
            self._handle(batch)
        except BaseException as exc:  # every item not answered gets the error
            for handled in batch:
                if handled.error is None and not handled.result_set:
                    handled.error = exc
        finally:
            with self.cond:
                for handled in batch:
                    handled.done = True
                self.busy = False
                self.cond.notify_all()
        return entry.outcome()

    #: What a group's failure must be for each of its items to be handled again alone: a database error
    #: (perhaps this thread's connection alone had gone stale, so the other threads do not fail for it).
    retry_alone_on: tuple[type[Exception], ...] = (DatabaseError,)

    def _handle(self, batch: list[_Entry]) -> None:
        if len(batch) > 1:
            try:
                results = self._handle_items([entry.item for entry in batch])
            except self.retry_alone_on as exc:
                log.info("a group of %d failed (%r); handling each alone", len(batch), exc)
                if isinstance(exc, DatabaseError) and not connection.is_usable():
                    connection.close()  # the next statement opens a new one
            else:
                for entry, result in zip(batch, results, strict=True):
                    entry.set_result(result)
                return
        for entry in batch:
            try:
                entry.set_result(self._handle_items([entry.item])[0])
            except BaseException as exc:  # handed to the thread that asked, re-raised there
                entry.error = exc

    def _handle_items(self, items: list[T]) -> list[R]:
        return self.handle(items)


class GroupCommit(Gathered[T, R]):
    """Gathered writes, each group in one transaction, retried one by one if it fails (the module says more)."""

    retry_alone_on = (Exception,)

    def __init__(self, write: Callable[[list[T]], list[R]], max_batch: int = 64) -> None:
        super().__init__(write, max_batch)
        self.write = write
        self.scopes: list[Callable[[], AbstractContextManager]] = []

    def _handle(self, batch: list[_Entry]) -> None:
        with contextlib.ExitStack() as stack:
            for scope in self.scopes:
                stack.enter_context(scope())
            super()._handle(batch)

    def _handle_items(self, items: list[T]) -> list[R]:
        with transaction.atomic():
            return self.handle(items)

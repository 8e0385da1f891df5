"""Write work from many threads of one process in one transaction: group commit.

The worker's threads each finish a fetch and write its result: one
transaction each. On SQLite each waits its turn for the one write lock, and
while it holds the lock, each of its statements waits to get Python's GIL
back from the other threads; on PostgreSQL each pays its own BEGIN and
COMMIT. In the ingest benchmark the worker's threads spent most of their time
waiting for that lock (docs/PERFORMANCE.md, ingest).

``GroupCommit.run(work)``: the first thread to arrive writes, in one
transaction, its own work and whatever other threads queued meanwhile; they
wait and get their own result (or exception) once it committed. Work that
arrives while a transaction is being written waits for the next one, written
by one of its own threads. If the shared transaction fails, every work in it
is run again alone, in a transaction of its own, so one failing work gets its
own exception and costs the others nothing but a second try. A work must be
safe to run twice (only its database effects are rolled back).

Inside a caller's transaction a work runs alone at once: what it writes must
commit with the caller's, not with other threads'.

``together``: whether to group at all, asked on each write. A database
that runs transactions side by side (PostgreSQL) gains little from it and
loses more: the thread that writes for the others waits for Python's GIL
after every statement while they run, so on PostgreSQL each work is written
alone, at once (``bookmarks.services`` decides).

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
from typing import Any

from django.db import DatabaseError, connection, transaction

log = logging.getLogger(__name__)


class _Entry:
    __slots__ = ("work", "done", "result", "result_set", "error")

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
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


class GroupCommit:
    def __init__(self, max_batch: int = 64, together: Callable[[], bool] = lambda: True) -> None:
        self.max_batch = max_batch
        self.together = together
        self.scopes: list[Callable[[], AbstractContextManager]] = []
        self.cond = threading.Condition()
        self.queue: list[_Entry] = []
        self.writing = False

    def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` in a transaction that commits before this returns; its result, or its exception."""
        if connection.in_atomic_block:
            return work()
        entry = _Entry(work)
        if not self.together():
            self._write([entry])  # an error of a scope is raised here
            return entry.outcome()
        with self.cond:
            self.queue.append(entry)
            while self.writing and not entry.done:
                self.cond.wait()
            if entry.done:
                return entry.outcome()
            self.writing = True
            batch = self.queue[: self.max_batch]
            if entry not in batch:
                batch.append(entry)
            self.queue = [waiting for waiting in self.queue if waiting not in batch]
        try:
            self._write(batch)
        except BaseException as exc:  # a scope failed: every work not answered gets the error
            for written in batch:
                if written.error is None and not written.result_set:
                    written.error = exc
        finally:
            with self.cond:
                for written in batch:
                    written.done = True
                self.writing = False
                self.cond.notify_all()
        return entry.outcome()

    def _write(self, batch: list[_Entry]) -> None:
        with contextlib.ExitStack() as stack:
            for scope in self.scopes:
                stack.enter_context(scope())
            _write(batch)


def _write(batch: list[_Entry]) -> None:
    if len(batch) > 1:
        try:
            with transaction.atomic():
                results = [entry.work() for entry in batch]
        except Exception as exc:
            log.info("a group of %d writes failed (%r); writing each alone", len(batch), exc)
            if isinstance(exc, DatabaseError) and not connection.is_usable():
                connection.close()
        else:
            for entry, result in zip(batch, results, strict=True):
                entry.set_result(result)
            return
    for entry in batch:
        try:
            with transaction.atomic():
                entry.set_result(entry.work())
        except BaseException as exc:  # handed to the thread that asked, re-raised there
            entry.error = exc

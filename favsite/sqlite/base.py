"""Django's SQLite backend, with the process's write transactions taking turns on a lock of their own.

SQLite has one writer at a time. A writer that finds the database locked is
put to sleep by SQLite's busy handler for 1, 2, 5, 10, ... up to 100 ms and
tries again, whether or not the lock was freed meanwhile. The worker's 32
threads all finishing fetches at once spent most of their time asleep there
while the lock was free: in a profile of the ingest benchmark, 49% of the
worker's thread time was that sleep (docs/PERFORMANCE.md, ingest).

Here a transaction first takes a lock shared by the process's connections to
the same database file, then ``BEGIN IMMEDIATE``. Threads of one process
queue on it and are woken the moment it is free; only the one at the head
waits in SQLite's busy handler for another process (the gateway, the web).
The lock is held until the transaction commits or rolls back, or its
connection closes. Waiting longer than the connection's ``timeout`` raises
the same ``OperationalError`` SQLite's own timeout does.

Statements outside a transaction (autocommit) don't take it: they are single
statements and SQLite's busy handler serves them as before.
"""

from __future__ import annotations

import os
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _write_lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _forget_locks_in_child() -> None:
    # A forked child (Celery's prefork pool) has none of its parent's transactions.
    global _locks_guard
    _locks.clear()
    _locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_locks_in_child)


class DatabaseWrapper(base.DatabaseWrapper):
    _held_write_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        name = str(self.settings_dict["NAME"])
        lock = None if self.is_in_memory_db() else _write_lock(name)
        if lock is not None:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            if not lock.acquire(timeout=timeout):
                raise OperationalError("database is locked (another thread of this process kept it)")
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self._held_write_lock = lock

    def _release_write_lock(self) -> None:
        lock, self._held_write_lock = self._held_write_lock, None
        if lock is not None:
            lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._release_write_lock()

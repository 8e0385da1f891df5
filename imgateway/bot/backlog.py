"""The gateway's database thread: chat messages wait here and are handled a batch at a time, in order.

Nothing touches the database on the event loop. One thread does all of the
bot's database work: the messages waiting are handed to it together
(``imgateway.messages.handle_messages`` saves them in one transaction), and
other calls (``call``: confirmations, notices, the subscription policy) run
between two batches, ahead of the messages still waiting. One thread also
keeps each person's messages in the order they came.

Past ``high_water`` messages waiting, ``on_pressure(True)`` asks the bot to
stop reading from the server (the server keeps the rest of a flood, not the
gateway's memory) until fewer than ``low_water`` wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from django.db import connections

from imgateway.messages import fresh_connection

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def _fresh(func: Callable[..., R], args: tuple) -> R:
    fresh_connection()
    return func(*args)


class Backlog(Generic[T]):
    """Items for ``handle_batch(items) -> outcomes`` (one per item: a result or an exception), served in order."""

    def __init__(
        self,
        handle_batch: Callable[[list[T]], list[Any]],
        *,
        high_water: int,
        low_water: int,
        on_pressure: Callable[[bool], None],
        batch_size: int = 64,
    ) -> None:
        self.handle_batch = handle_batch
        self.high_water, self.low_water, self.batch_size = high_water, low_water, batch_size
        self.on_pressure = on_pressure
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imgateway-db")
        self.waiting: deque[tuple[T, Callable[[Any], None]]] = deque()
        self.in_hand = 0  # items handed to the thread and not answered yet
        self.pressed = False
        self.wakeup = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.below_mark = asyncio.Event()
        self.below_mark.set()
        self.task = asyncio.ensure_future(self.serve())

    def put(self, item: T, done: Callable[[Any], None]) -> None:
        """Queue ``item``; ``done(outcome)`` follows on the event loop once its batch was handled."""
        self.waiting.append((item, done))
        self.idle.clear()
        self.wakeup.set()
        if not self.pressed and len(self.waiting) >= self.high_water:
            self.press(True)

    async def call(self, func: Callable[..., R], *args: Any) -> R:
        """``func(*args)`` in the database thread, between two batches; its result or exception."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, _fresh, func, args)

    def press(self, pressed: bool) -> None:
        self.pressed = pressed
        (self.below_mark.clear if pressed else self.below_mark.set)()
        self.on_pressure(pressed)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self.waiting:
                self.idle.set()
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            taken = [self.waiting.popleft() for _ in range(min(len(self.waiting), self.batch_size))]
            self.in_hand = len(taken)
            try:
                outcomes = await loop.run_in_executor(self.executor, self.handle_batch, [item for item, _ in taken])
            except Exception as exc:  # handed to each item's callback, which logs it
                outcomes = [exc] * len(taken)
            self.in_hand = 0
            for (_item, done), outcome in zip(taken, outcomes, strict=True):
                try:
                    done(outcome)
                except Exception:
                    log.exception("a database job's callback failed")
            if self.pressed and len(self.waiting) <= self.low_water:
                self.press(False)

    def __len__(self) -> int:
        return len(self.waiting) + self.in_hand

    async def drain(self, timeout: float) -> None:
        """Wait until every item put was handled, ``timeout`` seconds at most."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout)

    def close(self) -> None:
        self.task.cancel()
        self.executor.submit(connections.close_all)
        self.executor.shutdown(wait=True)  # calls queued already (a confirmation recorded as sent) still run

"""favsite.sqlite: a process's write transactions on one SQLite file take turns on a lock of their own."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from bookmarks.models import Tag
from tests.conftest import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's own lock"),
]


def in_thread(work) -> object:
    """Run ``work`` in a thread of its own (its own connection); its result or exception."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    return outcome[0]


def write_a_tag(name: str, timeout: float | None = None):
    def work() -> str:
        options = connection.settings_dict["OPTIONS"]  # shared by every thread's connection
        if timeout is not None:
            connection.settings_dict["OPTIONS"] = {**options, "timeout": timeout}
        try:
            with transaction.atomic():
                Tag.objects.create(owner=make_user(), name=name)
        finally:
            connection.settings_dict["OPTIONS"] = options
        return "written"

    return work


def test_a_transaction_waits_for_another_threads_until_it_commits():
    started, go_on = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with transaction.atomic():
            Tag.objects.create(owner=make_user(), name="first")
            started.set()
            go_on.wait(30)
            order.append("first committed")
        connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    started.wait(30)
    threading.Timer(0.2, go_on.set).start()
    assert in_thread(write_a_tag("second")) == "written"
    order.append("second committed")
    holder.join(30)
    assert order == ["first committed", "second committed"]


def test_a_transaction_kept_past_the_timeout_fails_the_waiting_one_as_sqlite_would():
    started, go_on = threading.Event(), threading.Event()

    def first() -> None:
        with transaction.atomic():
            Tag.objects.create(owner=make_user(), name="first")
            started.set()
            go_on.wait(30)
        connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    started.wait(30)
    try:
        outcome = in_thread(write_a_tag("second", timeout=0.2))
    finally:
        go_on.set()
        holder.join(30)
    assert isinstance(outcome, OperationalError) and "database is locked" in str(outcome)


def test_a_rolled_back_transaction_lets_the_next_one_in():
    def fail() -> None:
        with transaction.atomic():
            Tag.objects.create(owner=make_user(), name="rolled back")
            raise ValueError("no")

    assert isinstance(in_thread(fail), ValueError)
    assert in_thread(write_a_tag("after", timeout=1)) == "written"


def test_a_connection_closed_inside_its_transaction_lets_the_next_one_in():
    def close_midway() -> None:
        with transaction.atomic():
            Tag.objects.create(owner=make_user(), name="lost")
            connection.close()

    in_thread(close_midway)
    assert in_thread(write_a_tag("after", timeout=1)) == "written"
    assert not Tag.objects.filter(name="lost").exists()

"""bookmarks.group_commit: work from many threads of one process is done together; writes share a transaction."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from django.db import IntegrityError, OperationalError, connections, transaction

from bookmarks import services
from bookmarks.group_commit import Gathered, GroupCommit
from bookmarks.models import Tag
from tests.conftest import make_bookmark, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(group: Gathered, works: list) -> list:
    """Each work through ``group`` from a thread of its own, all at once; each result or exception."""
    outcomes: list = [None] * len(works)
    start = threading.Barrier(len(works))

    def run(index: int) -> None:
        try:
            start.wait(30)
            outcomes[index] = group.run(works[index])
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


class FirstThenThree:
    """A ``handle`` for a group: "first" runs alone and holds on until "next 0" to "next 2" are queued
    behind it, so they reach ``handle`` together in its second call. ``then(items)``: what each call returns."""

    def __init__(self, then) -> None:
        self.then = then
        self.calls: list[list[str]] = []
        self.first_is_running, self.others_queued = threading.Event(), threading.Event()

    def __call__(self, items: list[str]) -> list[str]:
        if not self.calls:
            self.first_is_running.set()
            self.others_queued.wait(30)  # the other threads queue meanwhile
        self.calls.append(list(items))
        return self.then(items)

    def run(self, group: Gathered) -> dict[str, object]:
        """Each name's result or exception, each from a thread of its own."""
        outcomes: dict[str, object] = {}

        def run(name: str) -> None:
            try:
                outcomes[name] = group.run(name)
            except Exception as exc:
                outcomes[name] = exc
            finally:
                connections.close_all()

        leader = threading.Thread(target=run, args=("first",))
        leader.start()
        assert self.first_is_running.wait(30)
        followers = [threading.Thread(target=run, args=(f"next {n}",)) for n in range(3)]
        for thread in followers:
            thread.start()
        deadline = time.monotonic() + 30
        while len(group.queue) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.others_queued.set()
        for thread in [leader, *followers]:
            thread.join(30)
        return outcomes


def run_each(works: list) -> list:
    """A ``write`` for closures: each in turn, inside the group's transaction."""
    return [work() for work in works]


def tag_writer(owner, name: str):
    def work() -> str:
        Tag.objects.create(owner=owner, name=name)
        return name

    return work


def test_every_thread_gets_its_own_result_once_its_write_committed():
    owner = make_user()
    names = [f"tag {index}" for index in range(12)]
    outcomes = in_threads(GroupCommit(run_each), [tag_writer(owner, name) for name in names])
    assert outcomes == names
    assert sorted(Tag.objects.filter(owner=owner).values_list("name", flat=True)) == sorted(names)


def test_a_failing_write_gets_its_exception_and_the_others_are_kept():
    owner = make_user()
    Tag.objects.create(owner=owner, name="taken")
    names = ["one", "taken", "two", "three"]
    outcomes = in_threads(GroupCommit(run_each), [tag_writer(owner, name) for name in names])
    assert isinstance(outcomes[1], IntegrityError)
    assert [outcomes[0], *outcomes[2:]] == ["one", "two", "three"]
    assert sorted(Tag.objects.filter(owner=owner).values_list("name", flat=True)) == ["one", "taken", "three", "two"]


def test_more_writes_than_one_group_holds_are_all_written():
    owner = make_user()
    names = [f"tag {index}" for index in range(10)]
    outcomes = in_threads(GroupCommit(run_each, max_batch=3), [tag_writer(owner, name) for name in names])
    assert outcomes == names
    assert Tag.objects.filter(owner=owner).count() == 10


def test_inside_a_callers_transaction_the_write_is_the_callers():
    owner = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        GroupCommit(run_each).run(tag_writer(owner, "rolled back with the caller"))
        raise RuntimeError("the caller changes its mind")
    assert not Tag.objects.filter(owner=owner).exists()


def test_a_scope_that_fails_before_writing_fails_every_write_of_its_group():
    owner = make_user()
    group = GroupCommit(run_each)

    @contextlib.contextmanager
    def broken():
        raise RuntimeError("the scope failed")
        yield

    group.scopes.append(broken)
    outcomes = in_threads(group, [tag_writer(owner, name) for name in ("one", "two", "three")])
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert not Tag.objects.filter(owner=owner).exists()


def test_writes_queued_while_a_group_is_written_reach_write_together_in_the_next_call():
    write = FirstThenThree(lambda items: items)
    outcomes = write.run(GroupCommit(write))
    assert write.calls[0] == ["first"] and sorted(write.calls[1]) == ["next 0", "next 1", "next 2"]
    assert len(write.calls) == 2
    assert outcomes == {"first": "first", "next 0": "next 0", "next 1": "next 1", "next 2": "next 2"}


def test_fetches_beginning_in_many_threads_each_read_their_own_bookmark():
    owner = make_user()
    bookmarks = [make_bookmark(owner, url=f"https://example.com/read/{n}") for n in range(12)]
    outcomes = in_threads(services.pending_reads, [bookmark.pk for bookmark in bookmarks])
    assert [bookmark.url for bookmark in outcomes] == [bookmark.url for bookmark in bookmarks]


def test_gathered_work_that_fails_gives_its_exception_to_every_item_of_its_group():
    def refuse(items: list[str]) -> list[str]:
        raise ValueError(f"refused {len(items)}")

    outcomes = in_threads(Gathered(refuse), ["one", "two", "three"])
    assert all(isinstance(outcome, ValueError) for outcome in outcomes)


def test_gathered_work_is_not_a_transaction():
    owner = make_user()

    def half_done(works: list) -> list:
        for work in works:
            work()
        raise RuntimeError("after writing")

    with pytest.raises(RuntimeError):
        Gathered(half_done).run(tag_writer(owner, "kept"))
    assert Tag.objects.filter(owner=owner, name="kept").exists()


def test_a_gathered_group_that_fails_with_a_database_error_handles_each_item_alone():
    def stale_for_groups(items: list[str]) -> list[str]:
        if len(items) > 1:
            raise OperationalError("server closed the connection unexpectedly")
        return [item.upper() for item in items]

    handle = FirstThenThree(stale_for_groups)
    outcomes = handle.run(Gathered(handle))
    assert sorted(handle.calls[1]) == ["next 0", "next 1", "next 2"]  # the group that failed
    assert outcomes == {"first": "FIRST", "next 0": "NEXT 0", "next 1": "NEXT 1", "next 2": "NEXT 2"}

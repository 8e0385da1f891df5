"""Messages handled in batches: what each message gets back, and the database pool that batches them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bookmarks.models import Bookmark
from imgateway import outbox
from imgateway.bot import DbPool, PacedReader, Typing, trim_heap
from imgateway.handling import DatabaseUnavailable, Incoming, Reply, handle_messages, slow_down_notice
from imgateway.linking import link_verified, start_link
from imgateway.models import ChatSave, HandledCommand, LinkedJid
from imgateway.tasks import resend_confirmations
from tests.conftest import bookmark_writes_blocked, live_database_url, make_bookmark

ALICE = "alice@example.org/phone"
_ids = itertools.count()


def message(body: str, sender: str = ALICE) -> Incoming:
    return Incoming(sender, body, [], f"m{next(_ids)}")


def stranger() -> str:
    """A JID never seen before (the unknown-JID notice is limited per JID in Redis)."""
    return f"stranger{next(_ids)}-{id(_ids)}@example.org/x"


@pytest.fixture
def alice(user):
    link_verified(user, "alice@example.org")
    return user


# -- handle_messages -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_message_of_a_batch_gets_its_own_reply(alice):
    make_bookmark(alice, url="https://example.com/known")
    outcomes = handle_messages(
        [message("https://example.com/new"), message("https://example.com/known"), message("help")]
    )
    assert outcomes[0].text is None and outcomes[0].awaiting_confirmation
    assert outcomes[1].text.startswith("Already saved on ")
    assert "recent" in outcomes[2].text
    assert ChatSave.objects.get().items.get().url == "https://example.com/new"


@pytest.mark.django_db(transaction=True)
def test_saves_from_several_people_in_one_batch_go_to_each_account(alice, other_user):
    link_verified(other_user, "mallory@example.org")
    handle_messages([message("https://example.com/a"), message("https://example.com/m", "mallory@example.org/pc")])
    assert [b.url for b in Bookmark.objects.filter(owner=alice)] == ["https://example.com/a"]
    assert [b.url for b in Bookmark.objects.filter(owner=other_user)] == ["https://example.com/m"]


@pytest.mark.django_db(transaction=True)
def test_a_message_that_fails_in_a_batch_is_rolled_back_alone(alice):
    # A lone surrogate cannot be encoded for the database: the batch fails, and each message is saved again alone.
    outcomes = handle_messages(
        [
            message("https://example.com/1"),
            message("bad \ud800 https://example.com/2"),
            message("https://example.com/3"),
        ]
    )
    assert isinstance(outcomes[1], Exception)
    assert outcomes[0].awaiting_confirmation and outcomes[2].awaiting_confirmation
    assert sorted(Bookmark.objects.values_list("url", flat=True)) == ["https://example.com/1", "https://example.com/3"]
    assert ChatSave.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_url_sent_after_unlink_in_the_same_batch_is_not_saved(alice):
    outcomes = handle_messages(
        [message("https://example.com/before"), message("unlink"), message("https://example.com/after")]
    )
    assert "no longer linked" in outcomes[1].text
    assert not outcomes[2].awaiting_confirmation
    assert list(Bookmark.objects.values_list("url", flat=True)) == ["https://example.com/before"]
    assert not LinkedJid.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_url_sent_after_link_in_the_same_batch_is_saved(user):
    jid = stranger()
    code = start_link(user, jid)
    outcomes = handle_messages(
        [
            message("https://example.com/early", jid),
            message(f"link {code.code}", jid),
            message("https://example.com/late", jid),
        ]
    )
    assert "/settings/im/" in outcomes[0].text
    assert "Linked to alice" in outcomes[1].text
    assert outcomes[2].awaiting_confirmation
    assert list(Bookmark.objects.values_list("url", flat=True)) == ["https://example.com/late"]


@pytest.mark.django_db(transaction=True)
def test_one_message_that_saves_again_what_an_earlier_one_of_the_batch_saved_is_answered_already_saved(alice):
    outcomes = handle_messages([message("https://example.com/x #a"), message("https://example.com/x #b")])
    assert outcomes[0].awaiting_confirmation
    assert outcomes[1].text.startswith("Already saved on ")
    assert sorted(t.name for t in Bookmark.objects.get().tags.all()) == ["a", "b"]


@pytest.mark.django_db(transaction=True)
def test_confirmations_already_sent_are_left_out(alice):
    handle_messages([message("https://example.com/1"), message("https://example.com/2")])
    first, second = ChatSave.objects.order_by("id").values_list("pk", flat=True)
    assert outbox.mark_sent_many([first]) == 1
    assert outbox.unsent([first, second, 10**9]) == {second}


@pytest.mark.django_db(transaction=True)
def test_an_undo_delivered_again_from_offline_storage_removes_nothing_more(alice):
    handle_messages([message("https://example.com/1"), message("https://example.com/2")])
    assert "https://example.com/2" in handle_messages([Incoming(ALICE, "undo", [], "undo-1")])[0].text
    # Killed after the commit and before the ack: the server delivers it again, delay-stamped.
    again = handle_messages([Incoming(ALICE, "undo", [], "undo-1", delayed=True)])
    assert again[0].text is None
    assert list(Bookmark.objects.values_list("url", flat=True)) == ["https://example.com/1"]


@pytest.mark.django_db(transaction=True)
def test_a_new_undo_reusing_a_message_id_still_acts(alice):
    handle_messages([message("https://example.com/1"), message("https://example.com/2")])
    handle_messages([Incoming(ALICE, "undo", [], "same-id")])
    assert "https://example.com/1" in handle_messages([Incoming(ALICE, "/undo", [], "same-id", delayed=True)])[0].text
    assert not Bookmark.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_forgets_commands_handled_more_than_a_day_ago(alice):
    handle_messages([Incoming(ALICE, "undo", [], "old"), Incoming(ALICE, "undo", [], "new")])
    HandledCommand.objects.filter(pk=HandledCommand.objects.order_by("pk").first().pk).update(
        handled_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    resend_confirmations()
    assert HandledCommand.objects.count() == 1


def test_the_slow_down_notice_says_the_message_was_not_saved():
    assert "not saved" in slow_down_notice(None)


needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL backend's lock queue")


@contextlib.contextmanager
def postgres_stops_the_query_waiting_on(table: str, action: str):
    """While inside, a statement of this process that touches ``table`` is stopped by the server.

    Another connection holds ``table`` locked; a thread waits until one of our
    backend's statements waits for that lock, then ``pg_cancel_backend`` (a
    query error, as a statement timeout gives) or ``pg_terminate_backend`` (a
    dropped connection) stops it, and the lock is let go: what follows runs.
    """
    import psycopg

    ours = connection.cursor().connection.info.backend_pid
    holder = psycopg.connect(live_database_url(), autocommit=True)
    watcher = psycopg.connect(live_database_url(), autocommit=True)
    holder.execute("BEGIN")
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    stopped = threading.Event()

    def stop_it() -> None:
        while not stopped.is_set():
            row = watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock' AND query LIKE %s",
                [ours, f"%{table}%"],
            ).fetchone()
            if row:
                watcher.execute(f"SELECT {action}(%s)", [ours])
                holder.execute("ROLLBACK")
                stopped.set()
            else:
                stopped.wait(0.01)

    thread = threading.Thread(target=stop_it, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()
        holder.close()
        watcher.close()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_query_failing_before_a_save_in_a_batch_loses_nothing_of_the_others(alice, other_user):
    make_bookmark(alice, url="https://example.com/known")
    link_verified(other_user, "bob@example.org")
    copy = Incoming("bob@example.org/pc", "https://example.com/copy", [], "m-copy", delayed=True)
    with postgres_stops_the_query_waiting_on("imgateway_chatsave", "pg_cancel_backend"):
        # The copy's look-up of an earlier save (before the save itself) is the statement cancelled.
        outcomes = handle_messages(
            [message("https://example.com/known #kept"), copy, message("https://example.com/new")]
        )
    assert outcomes[0].text.startswith("Already saved on ")
    assert outcomes[2].awaiting_confirmation
    assert [t.name for t in Bookmark.objects.get(url="https://example.com/known").tags.all()] == ["kept"]
    # The cancelled one (a statement timeout, for Django an OperationalError) is tried again alone.
    assert outcomes[1].awaiting_confirmation
    assert sorted(ChatSave.objects.values_list("items__url", flat=True)) == [
        "https://example.com/copy",
        "https://example.com/new",
    ]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_in_the_middle_of_a_batch_loses_nothing(alice, other_user):
    make_bookmark(alice, url="https://example.com/known")
    link_verified(other_user, "bob@example.org")
    bobs = message("https://example.com/bob", "bob@example.org/pc")
    with postgres_stops_the_query_waiting_on("imgateway_chatsave", "pg_terminate_backend"):
        # Bob's chat record is the statement the dropped connection was running (inside his save).
        outcomes = handle_messages(
            [message("https://example.com/known #kept"), bobs, message("https://example.com/new")]
        )
    assert outcomes[0].text.startswith("Already saved on ")
    assert outcomes[1].awaiting_confirmation and outcomes[2].awaiting_confirmation
    assert [t.name for t in Bookmark.objects.get(url="https://example.com/known").tags.all()] == ["kept"]
    assert sorted(ChatSave.objects.values_list("items__url", flat=True)) == [
        "https://example.com/bob",
        "https://example.com/new",
    ]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_and_the_batch_saved(alice):
    import psycopg

    handle_messages([message("https://example.com/before")])  # the connection was checked just now
    ours = connection.cursor().connection.info.backend_pid
    with psycopg.connect(live_database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [ours])  # a database restart, for this connection
    outcomes = handle_messages([message("https://example.com/after-restart")])
    assert outcomes[0].awaiting_confirmation
    assert ChatSave.objects.filter(items__url="https://example.com/after-restart").exists()


@pytest.fixture
def short_lock_wait():
    """The handling connection gives up waiting for a lock after a fraction of a second."""
    connection.close()
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    if connection.vendor == "sqlite":
        options["timeout"] = 0.2
    else:
        options["options"] = "-c lock_timeout=200"
    yield
    connection.close()
    options.clear()
    options.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_save_that_times_out_on_a_locked_database_is_kept_for_later_not_answered(alice, short_lock_wait):
    with bookmark_writes_blocked():
        outcomes = handle_messages([message("https://example.com/waits"), message("https://example.com/waits-too")])
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes)
    assert not Bookmark.objects.exists()


# -- DbPool ----------------------------------------------------------------------


def echo_batch(items: list) -> list:
    return [("batch", tuple(items))] * len(items)


def failing_batch(items: list) -> list:
    raise RuntimeError("the database went away")


def run_pool(jobs, **pool_options):
    """Submit ``(key, batch_func, item)`` jobs at once to a new pool: their outcomes, and the pressure calls."""
    pressure: list[bool] = []

    async def main():
        pool = DbPool(on_pressure=pressure.append, **pool_options)
        outcomes: dict[int, object] = {}
        for index, (key, func, item) in enumerate(jobs):
            pool.submit(key, func, item, lambda outcome, index=index: outcomes.__setitem__(index, outcome))
        await pool.drain(10)
        pool.close()
        return [outcomes[i] for i in range(len(jobs))]

    return asyncio.run(main()), pressure


def test_jobs_waiting_in_one_shard_reach_the_batch_function_together_in_order():
    outcomes, _pressure = run_pool([("a@x", echo_batch, i) for i in range(5)], shards=1)
    assert outcomes == [("batch", (0, 1, 2, 3, 4))] * 5


def test_a_job_submitted_first_runs_ahead_of_those_waiting():
    order: list[str] = []

    async def main():
        pool = DbPool(shards=1)
        record = order.append
        for index in range(3):
            pool.submit("a@x", lambda items: [record(item) for item in items], f"save {index}", lambda _outcome: None)
        await pool.run("outbox", record, "confirmation", first=True)
        await pool.drain(10)
        pool.close()

    asyncio.run(main())
    assert order == ["confirmation", "save 0", "save 1", "save 2"]


def test_a_batch_is_cut_at_jobs_of_another_function():
    outcomes, _pressure = run_pool(
        [("a@x", echo_batch, 0), ("a@x", failing_batch, 1), ("a@x", echo_batch, 2)], shards=1
    )
    assert outcomes[0] == ("batch", (0,)) and outcomes[2] == ("batch", (2,))
    assert isinstance(outcomes[1], RuntimeError)


def test_a_failing_batch_hands_its_exception_to_every_job_in_it():
    outcomes, _pressure = run_pool([("a@x", failing_batch, i) for i in range(3)], shards=1)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)


def test_messages_the_server_holds_unacknowledged_past_the_mark_stop_reading_too():
    unfinished = [10]  # one slow save holds back the acks of ten finished messages

    def finish(items: list) -> list:
        unfinished[0] = 0  # the slow one is saved: the server can forget all of them
        return items

    _outcomes, pressure = run_pool(
        [("a@x", finish, 0)], shards=1, high_water=4, low_water=2, held=lambda: unfinished[0]
    )
    assert pressure == [True, False]


def test_a_full_backlog_asks_to_stop_reading_until_it_drains():
    _outcomes, pressure = run_pool([("a@x", echo_batch, i) for i in range(10)], shards=1, high_water=4, low_water=2)
    assert pressure == [True, False]


def test_typing_is_shown_once_for_saves_in_a_row_and_ended_by_the_last_answer():
    typing = Typing()
    assert [typing.started("a@x/phone"), typing.started("a@x/phone"), typing.started("b@x/pc")] == [True, False, True]
    assert [typing.finished("a@x/phone"), typing.finished("a@x/phone"), typing.finished("b@x/pc")] == [
        "composing",
        "active",
        "active",
    ]


def test_typing_remembers_a_bounded_number_of_senders():
    typing = Typing(max_entries=1)
    typing.started("a@x/phone")
    assert typing.started("b@x/pc") and typing.started("b@x/pc")  # not counted: each shows composing
    assert typing.finished("b@x/pc") == "active"
    assert typing.finished("a@x/phone") == "active"


def test_the_heap_can_be_trimmed_on_this_system():
    # glibc (Debian, the Docker image): the gateway gives memory back after a flood.
    assert trim_heap()


@pytest.mark.django_db(transaction=True)
def test_a_copy_delivered_again_in_the_same_batch_as_its_original_is_dropped(alice):
    original = message("https://example.com/twice")
    copy = dataclasses.replace(original, delayed=True)
    outcomes = handle_messages([original, copy])
    assert outcomes[0].awaiting_confirmation
    assert outcomes[1] == Reply(None)
    assert ChatSave.objects.count() == 1


# -- PacedReader -------------------------------------------------------------------


def test_the_server_s_bytes_reach_the_parser_a_slice_at_a_time_and_none_while_paused():
    fed: list[bytes] = []
    paused = [False]

    def feed(data: bytes) -> None:
        fed.append(data)
        paused[0] = len(fed) == 2  # the second slice fills the backlog

    reader = PacedReader(feed, lambda: paused[0])
    data = bytes(range(256)) * (PacedReader.SLICE * 5 // 256)
    reader.received(data)
    assert len(fed) == 2
    paused[0] = False
    reader.pump()
    assert b"".join(fed) == data and max(map(len, fed)) == PacedReader.SLICE


def test_bytes_read_while_paused_follow_those_waiting():
    fed: list[bytes] = []
    paused = [True]
    reader = PacedReader(fed.append, lambda: paused[0])
    reader.received(b"<message>one</message>")
    reader.received(b"<message>two</message>")
    assert fed == []
    paused[0] = False
    reader.pump()
    assert b"".join(fed) == b"<message>one</message><message>two</message>"


def test_a_new_connection_drops_what_the_old_one_left_unread():
    fed: list[bytes] = []
    paused = [True]
    reader = PacedReader(fed.append, lambda: paused[0])
    reader.received(b"<message>from the old stream</message>")
    reader.clear()
    paused[0] = False
    reader.received(b"<stream:stream>")
    assert fed == [b"<stream:stream>"]

"""Messages handled in batches: what each message gets back, and the backlog that batches them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from bookmarks.models import Bookmark
from imgateway.archive import catch_up_start, mark_handled_before
from imgateway.bot.backlog import Backlog
from imgateway.bot.pacing import Typing
from imgateway.linking import link_verified, start_link
from imgateway.messages import (
    DatabaseUnavailable,
    Incoming,
    handle_messages,
    record_dropped,
    slow_down_notice,
)
from imgateway.models import ArchiveMark, ChatSave, ChatSaveItem, LinkedJid, ReceivedMessage
from imgateway.tasks import resend_confirmations
from tests.conftest import bookmark_writes_blocked, live_database_url, make_bookmark

ALICE = "alice@example.org/phone"
_ids = itertools.count()


def message(body: str, sender: str = ALICE) -> Incoming:
    number = next(_ids)
    return Incoming(sender, body, [], f"m{number}", f"archive-{number}-{id(_ids)}")


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
    assert ChatSave.objects.get(sent_at=None).items.get().url == "https://example.com/new"


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
def test_an_undo_received_again_removes_nothing_more(alice):
    handle_messages([message("https://example.com/1"), message("https://example.com/2")])
    undo = message("undo")
    assert "https://example.com/2" in handle_messages([undo])[0].text
    # Its copy: from offline storage after a stream was lost, or from the archive when catching up.
    again = handle_messages([dataclasses.replace(undo)])
    assert again[0].text is None
    assert list(Bookmark.objects.values_list("url", flat=True)) == ["https://example.com/1"]


@pytest.mark.django_db(transaction=True)
def test_a_copy_in_the_same_batch_as_its_original_is_dropped(alice):
    original = message("https://example.com/1")
    outcomes = handle_messages([original, message("help"), dataclasses.replace(original)])
    assert outcomes[0].awaiting_confirmation and outcomes[2].text is None and not outcomes[2].awaiting_confirmation
    assert ChatSave.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_every_message_handled_is_recorded_as_received_once(alice):
    batch = [message("https://example.com/1"), message("help"), message("recent"), message("frobnicate")]
    handle_messages(batch)
    handle_messages(batch)
    assert sorted(ReceivedMessage.objects.values_list("archive_id", flat=True)) == sorted(m.archive_id for m in batch)


@pytest.mark.django_db(transaction=True)
def test_a_message_that_failed_is_recorded_as_received_and_not_failed_again(alice):
    bad = message("bad \ud800 https://example.com/2")
    assert isinstance(handle_messages([bad])[0], Exception)
    assert handle_messages([bad])[0].text is None


@pytest.mark.django_db(transaction=True)
def test_a_message_dropped_over_the_rate_limit_is_recorded_so_catching_up_skips_it(alice):
    dropped = message("https://example.com/too-fast")
    record_dropped([dropped.archive_id])
    assert handle_messages([dropped])[0].text is None
    assert not Bookmark.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_forgets_messages_received_before_the_catch_up_window(alice, settings):
    settings.XMPP_CATCH_UP_HOURS = 24
    handle_messages([message("help"), message("tags")])
    ReceivedMessage.objects.filter(pk=ReceivedMessage.objects.order_by("pk").first().pk).update(
        received_at=timezone.now() - timedelta(hours=25, minutes=1)
    )
    resend_confirmations()
    assert ReceivedMessage.objects.count() == 1


BOT = "bot@example.org"


@pytest.mark.django_db(transaction=True)
def test_a_bot_accounts_first_session_reads_nothing_older_from_the_archive(settings):
    settings.XMPP_CATCH_UP_HOURS = 24
    assert catch_up_start(BOT) is None  # nor after an upgrade: no mark yet, so no replay of old commands
    assert timezone.now() - ArchiveMark.objects.get(jid=BOT).handled_before < timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_catching_up_starts_ten_minutes_before_the_archive_mark(settings):
    settings.XMPP_CATCH_UP_HOURS = 24
    catch_up_start(BOT)
    mark = timezone.now() - timedelta(hours=2)
    ArchiveMark.objects.update(handled_before=mark)
    assert catch_up_start(BOT) == mark - timedelta(minutes=10)


@pytest.mark.django_db(transaction=True)
def test_catching_up_reads_no_further_back_than_its_window(settings):
    settings.XMPP_CATCH_UP_HOURS = 1
    catch_up_start(BOT)
    ArchiveMark.objects.update(handled_before=timezone.now() - timedelta(days=3))
    assert timezone.now() - catch_up_start(BOT) < timedelta(hours=1, minutes=1)
    settings.XMPP_CATCH_UP_HOURS = 0
    assert catch_up_start(BOT) is None


@pytest.mark.django_db(transaction=True)
def test_the_archive_mark_only_moves_forward(settings):
    catch_up_start(BOT)
    later, earlier = timezone.now() + timedelta(minutes=5), timezone.now() - timedelta(minutes=5)
    mark_handled_before(BOT, later)
    mark_handled_before(BOT, earlier)
    assert ArchiveMark.objects.get(jid=BOT).handled_before == later


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
def test_a_query_failing_before_the_saves_of_a_batch_loses_nothing(alice, other_user):
    make_bookmark(alice, url="https://example.com/known")
    link_verified(other_user, "bob@example.org")
    batch = [message("https://example.com/known #kept"), message("https://example.com/bob", "bob@example.org/pc")]
    with postgres_stops_the_query_waiting_on("imgateway_receivedmessage", "pg_cancel_backend"):
        # The batch's look-up of the messages received before is the statement cancelled (as a timeout would).
        outcomes = handle_messages([*batch, message("https://example.com/new")])
    assert outcomes[0].text.startswith("Already saved on ")
    assert outcomes[1].awaiting_confirmation and outcomes[2].awaiting_confirmation
    assert [t.name for t in Bookmark.objects.get(url="https://example.com/known").tags.all()] == ["kept"]
    # Each message is recorded once: what it created, and the link it only saved again.
    assert sorted(ChatSaveItem.objects.values_list("url", "created")) == [
        ("https://example.com/bob", True),
        ("https://example.com/known", False),
        ("https://example.com/new", True),
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
    # Each message is recorded once: what it created, and the link it only saved again.
    assert sorted(ChatSaveItem.objects.values_list("url", "created")) == [
        ("https://example.com/bob", True),
        ("https://example.com/known", False),
        ("https://example.com/new", True),
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


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_a_locked_database_waits_for_the_lock_once_per_try_not_once_per_message(alice, short_lock_wait):
    waits: list[str] = []

    def count_lock_timeouts(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except OperationalError:
            waits.append(sql)
            raise

    batch = [message(f"https://example.com/waits/{n}") for n in range(5)]
    with bookmark_writes_blocked(), connection.execute_wrapper(count_lock_timeouts):
        outcomes = handle_messages(batch)
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes)
    assert len(waits) == 2  # the batch, then the batch once more on a new connection


# -- the backlog ------------------------------------------------------------------


def echo_batch(items: list) -> list:
    return [("batch", tuple(items))] * len(items)


def failing_batch(items: list) -> list:
    raise RuntimeError("the database went away")


def run_backlog(items, handle_batch=echo_batch, **options):
    """Put ``items`` at once into a new backlog: their outcomes, and the pressure calls."""
    pressure: list[bool] = []

    async def main():
        backlog = Backlog(handle_batch, on_pressure=pressure.append, **{"high_water": 100, "low_water": 50, **options})
        outcomes: dict[int, object] = {}
        for index, item in enumerate(items):
            backlog.put(item, lambda outcome, index=index: outcomes.__setitem__(index, outcome))
        await backlog.drain(10)
        backlog.close()
        return [outcomes[i] for i in range(len(items))]

    return asyncio.run(main()), pressure


def test_messages_waiting_reach_the_database_thread_together_in_order():
    outcomes, _pressure = run_backlog(list(range(5)))
    assert outcomes == [("batch", (0, 1, 2, 3, 4))] * 5


def test_a_batch_holds_at_most_batch_size_messages():
    outcomes, _pressure = run_backlog(list(range(5)), batch_size=2)
    assert outcomes == [("batch", (0, 1))] * 2 + [("batch", (2, 3))] * 2 + [("batch", (4,))]


def test_a_call_runs_between_two_batches_ahead_of_the_messages_still_waiting():
    order: list[str] = []

    def record_batch(items: list) -> list:
        order.extend(items)
        return items

    async def main():
        backlog = Backlog(record_batch, high_water=100, low_water=50, on_pressure=lambda _full: None, batch_size=1)
        for index in range(3):
            backlog.put(f"save {index}", lambda _outcome: None)
        await asyncio.sleep(0)  # the first batch is handed to the thread
        await backlog.call(order.append, "confirmation")
        await backlog.drain(10)
        backlog.close()

    asyncio.run(main())
    assert order.index("confirmation") < order.index("save 2")


def test_a_failing_batch_hands_its_exception_to_every_message_in_it():
    outcomes, _pressure = run_backlog(list(range(3)), failing_batch)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)


def test_a_full_backlog_asks_to_stop_reading_until_it_drains():
    _outcomes, pressure = run_backlog(list(range(10)), high_water=4, low_water=2, batch_size=3)
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

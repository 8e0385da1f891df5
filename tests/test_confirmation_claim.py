"""The confirmation of a chat save is claimed in the transaction that records its last fetch result.

Two links of one message finishing at the same moment in two worker threads
must still give one confirmation: the second result's transaction waits for
the first (PostgreSQL: a row lock on the chat save; SQLite: its one write
lock) and then sees it.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from bookmarks import services
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark
from imgateway import outbox
from imgateway.handling import Incoming, handle_message
from imgateway.linking import link_verified
from imgateway.models import ChatSave

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = "alice@example.org/phone"


def fetched(url: str, title: str) -> PageMetadata:
    return PageMetadata(url=url, final_url=url, ok=True, title=title, http_status=200)


def stream_entries() -> list:
    return outbox.redis_client().xrange(outbox.stream_name())


@pytest.fixture
def two_links(user):
    link_verified(user, "alice@example.org")
    outbox.redis_client().delete(outbox.stream_name())
    handle_message(Incoming(ALICE, "https://example.com/a https://example.com/b", [], "m1"))
    yield list(Bookmark.objects.order_by("id"))
    outbox.redis_client().delete(outbox.stream_name())


def wait_until_blocked(thread: threading.Thread) -> None:
    """PostgreSQL: until another backend waits for a lock (SQLite: the thread waits for the write lock)."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and thread.is_alive():
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for our transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second result never waited for the first")


def test_the_last_result_of_a_save_claims_its_confirmation_in_the_same_transaction(two_links):
    first, second = two_links
    services.record_metadata(first.pk, fetched(first.url, "A"))
    assert stream_entries() == [] and ChatSave.objects.get().queued_at is None
    services.record_metadata(second.pk, fetched(second.url, "B"))
    (entry,) = stream_entries()
    assert entry[1][b"body"].decode().startswith("Saved: A\nhttps://example.com/a\nSaved: B")
    assert ChatSave.objects.get().queued_at is not None


def test_two_links_of_one_message_finishing_together_give_one_confirmation(two_links):
    first, second = two_links
    outcome: list[BaseException] = []

    def record_second() -> None:
        try:
            services.record_metadata(second.pk, fetched(second.url, "B"))
        except BaseException as exc:  # reported by the test thread
            outcome.append(exc)
        finally:
            connections.close_all()

    other = threading.Thread(target=record_second)
    with transaction.atomic():  # the first result, not yet committed, while the second is written
        services.record_metadata(first.pk, fetched(first.url, "A"))
        other.start()
        wait_until_blocked(other)
    other.join(20)
    assert not other.is_alive() and not outcome
    assert len(stream_entries()) == 1
    assert ChatSave.objects.get().queued_at is not None


def test_a_result_rolled_back_claims_nothing(two_links):
    first, second = two_links
    services.record_metadata(first.pk, fetched(first.url, "A"))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record_metadata(second.pk, fetched(second.url, "B"))
        raise RuntimeError("the result's transaction failed")
    assert stream_entries() == []
    assert ChatSave.objects.get().queued_at is None


@pytest.fixture
def two_messages(user):
    link_verified(user, "alice@example.org")
    outbox.redis_client().delete(outbox.stream_name())
    handle_message(Incoming(ALICE, "https://example.com/a", [], "m1"))
    handle_message(Incoming(ALICE, "https://example.com/b", [], "m2"))
    yield list(Bookmark.objects.order_by("id"))
    outbox.redis_client().delete(outbox.stream_name())


def test_confirmations_of_results_written_together_reach_the_stream_when_the_block_ends(two_messages):
    first, second = two_messages
    with outbox.confirmations_sent_together():
        services.record_metadata(first.pk, fetched(first.url, "A"))
        services.record_metadata(second.pk, fetched(second.url, "B"))
        assert stream_entries() == []
    bodies = [fields[b"body"].decode() for _id, fields in stream_entries()]
    assert bodies == ["Saved: A\nhttps://example.com/a", "Saved: B\nhttps://example.com/b"]


def test_the_fetch_results_of_a_worker_send_their_confirmations_together():
    from bookmarks.services import fetch_results

    assert outbox.confirmations_sent_together in fetch_results.scopes


def test_results_written_as_one_group_claim_their_confirmations_in_one_statement(two_messages):
    first, second = two_messages
    results = [
        services.FetchResult.of(b.pk, fetched(b.url, title), final=True, bookmark=services.begin_fetch(b.pk))
        for b, title in ((first, "A"), (second, "B"))
    ]
    with outbox.confirmations_sent_together(), CaptureQueriesContext(connection) as queries, transaction.atomic():
        services.fetch_results.write(results)
    claims = [query["sql"] for query in queries if query["sql"].startswith("UPDATE") and "chatsave" in query["sql"]]
    assert len(claims) == 1
    bodies = sorted(fields[b"body"].decode() for _id, fields in stream_entries())
    assert bodies == ["Saved: A\nhttps://example.com/a", "Saved: B\nhttps://example.com/b"]
    assert ChatSave.objects.filter(queued_at__isnull=True).count() == 0

"""A burst of new links is looked up by id, whatever the planner's statistics say (PostgreSQL).

PostgreSQL's statistics are as old as the table's last ANALYZE: on a site in
use they say that no bookmark is pending and no chat save waits for its
confirmation, until autovacuum looks again a minute or more after a flood
began. The fetch path and the outbox find their rows by id and check their
state (``bookmarks.row_check``); planned from those statistics, a lookup that
could use the index on ``status`` or ``sent_at`` did, and read every pending
bookmark or unsent save for each one it wanted. No statement these paths
run during a burst may read through the index on a table's state. (SQLite
finds rows by rowid whatever its statistics say.)
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookmarks import services
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark
from imgateway import outbox
from imgateway.models import ChatSave, ChatSaveItem

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner and its statistics"),
]

STATE_INDEXES = ("bookmark_status_updated", "chatsave_unsent")  # bookmarks by status, chat saves by sent_at


def saved_from_chat(user, count: int, *, done: bool, start: int) -> list[tuple[Bookmark, ChatSave]]:
    """``count`` links saved from chat: fetched and confirmed (``done``), or pending and waiting."""
    now = timezone.now()
    status = Bookmark.Status.OK if done else Bookmark.Status.PENDING
    urls = [f"https://example.com/burst/{number}" for number in range(start, start + count)]
    marks = Bookmark.objects.bulk_create(
        Bookmark(owner=user, url=url, normalized_url=url, url_hash=f"{number:064x}", status=status, source="im")
        for number, url in enumerate(urls, start)
    )
    sent = now if done else None
    saves = ChatSave.objects.bulk_create(
        ChatSave(user=user, jid="alice@example.org/phone", bare_jid="alice@example.org", queued_at=sent, sent_at=sent)
        for _url in urls
    )
    ChatSaveItem.objects.bulk_create(
        ChatSaveItem(chat_save=save, bookmark=mark, url=mark.url) for mark, save in zip(marks, saves, strict=True)
    )
    return list(zip(marks, saves, strict=True))


@pytest.fixture
def burst(user) -> list[tuple[Bookmark, ChatSave]]:
    """A site analyzed while everything was fetched and confirmed; then 300 new links from chat."""
    saved_from_chat(user, 300, done=True, start=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookmarks_bookmark, imgateway_chatsave, imgateway_chatsaveitem")
    return saved_from_chat(user, 300, done=False, start=300)


def scans_of_state(captured: CaptureQueriesContext) -> list[str]:
    """The plans of the statements run that read a table through the index on its state."""
    found = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.startswith(("SELECT", "UPDATE")):
                continue  # savepoints
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if any(index in plan for index in STATE_INDEXES):
                found.append(f"{sql[:120]}\n{plan}")
    return found


def fetched(bookmark: Bookmark) -> PageMetadata:
    return PageMetadata(url=bookmark.url, final_url=bookmark.url, ok=True, title="A page", http_status=200)


def test_a_fetch_reads_its_pending_bookmark_by_id(burst):
    bookmark, _save = burst[150]
    with CaptureQueriesContext(connection) as captured:
        assert services.begin_fetch(bookmark.pk) is not None
    assert scans_of_state(captured) == []


def test_a_fetch_delivered_again_counts_its_attempt_by_id(burst):
    bookmark, _save = burst[150]
    with CaptureQueriesContext(connection) as captured:
        assert services.begin_fetch(bookmark.pk, redelivered=True) is not None
    assert scans_of_state(captured) == []


def test_a_result_and_its_confirmation_claim_find_their_rows_by_id(burst):
    bookmark, save = burst[150]
    with CaptureQueriesContext(connection) as captured:
        services.record_metadata(bookmark.pk, fetched(bookmark), bookmark=bookmark)
    assert scans_of_state(captured) == []
    assert ChatSave.objects.get(pk=save.pk).queued_at is not None  # the claim did happen


def test_sent_confirmations_are_checked_and_marked_by_id(burst):
    save_ids = [save.pk for _bookmark, save in burst[100:150]]
    with CaptureQueriesContext(connection) as captured:
        assert outbox.unsent(save_ids) == set(save_ids)
        assert outbox.mark_sent_many(save_ids) == 50
    assert scans_of_state(captured) == []


def test_a_link_finishing_beside_another_of_its_message_locks_its_save_by_id(burst, user):
    first, second = saved_from_chat(user, 2, done=False, start=600)
    ChatSaveItem.objects.filter(chat_save=second[1]).update(chat_save=first[1])  # one message, two links
    with CaptureQueriesContext(connection) as captured:
        services.record_metadata(first[0].pk, fetched(first[0]), bookmark=first[0])
    assert any("FOR UPDATE" in query["sql"] for query in captured.captured_queries)
    assert scans_of_state(captured) == []

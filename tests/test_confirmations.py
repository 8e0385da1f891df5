"""Confirmations of chat saves: a fetch's end is named on a stream after commit, and each save is confirmed once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bookmarks import preferences, services
from bookmarks.fetching import finished
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark
from favsite.redis import redis_client
from imgateway import confirmations
from imgateway.linking import link_verified
from imgateway.messages import Incoming, handle_message
from imgateway.models import ChatSave
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = "alice@example.org/phone"


def fetched(bookmark: Bookmark, title: str) -> None:
    """The worker's end of a fetch: the final result, recorded as the task records it."""
    metadata = PageMetadata(url=bookmark.url, final_url=bookmark.url, ok=True, title=title, http_status=200)
    services.record_fetch(services.begin_fetch(bookmark.pk), metadata)


def named_on_the_stream() -> list[dict[str, str]]:
    return [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _id, fields in redis_client().xrange(finished.stream_name())
    ]


@pytest.fixture
def alice(user):
    link_verified(user, "alice@example.org")
    redis_client().delete(finished.stream_name())
    yield user
    redis_client().delete(finished.stream_name())


def send(body: str) -> list[Bookmark]:
    handle_message(Incoming(ALICE, body, [], "m1"))
    return list(Bookmark.objects.order_by("id"))


def test_a_chat_links_finished_fetch_is_named_on_the_stream_after_it_committed(alice):
    (bookmark,) = send("https://example.com/a")
    with transaction.atomic():
        fetched(bookmark, "Page A")
        assert named_on_the_stream() == []  # the gateway must find the result when it reads the entry
    assert named_on_the_stream() == [{"bookmarks": str(bookmark.pk)}]


def test_a_fetch_that_will_be_retried_is_not_named(alice):
    (bookmark,) = send("https://example.com/a")
    timeout = PageMetadata(url=bookmark.url, error="timed out", retryable=True)
    services.record_fetch(services.begin_fetch(bookmark.pk), timeout, final=False)
    assert named_on_the_stream() == []


def test_a_web_bookmarks_fetch_is_not_named(alice):
    bookmark = make_bookmark(alice, url="https://example.com/web")
    fetched(bookmark, "From the web")
    assert named_on_the_stream() == []


def test_a_save_is_due_only_once_every_link_of_its_message_is_fetched(alice):
    first, second = send("https://example.com/a https://example.com/b")
    fetched(first, "Page A")
    assert confirmations.due([first.pk]) == []
    fetched(second, "Page B")
    (due,) = confirmations.due([second.pk])
    assert (due.to, due.body) == (ALICE, "Saved: Page A\nhttps://example.com/a\nSaved: Page B\nhttps://example.com/b")


def test_the_confirmation_lists_what_the_message_could_not_save(alice):
    make_bookmark(alice, url="https://example.com/known")
    (_known, new) = send("https://example.com/known https://example.com/new ftp://x.example/")
    fetched(new, "New page")
    body = confirmations.due([new.pk])[0].body
    assert body.startswith("Saved: New page\nhttps://example.com/new\nAlready saved on ")
    assert "ftp://x.example/" in body


def test_a_link_deleted_before_its_fetch_ended_is_named_in_the_confirmation(alice):
    first, second = send("https://example.com/a https://example.com/b")
    services.delete_bookmarks(alice, [first.pk])
    fetched(second, "Page B")
    assert confirmations.due([second.pk])[0].body.startswith("Saved, then deleted: https://example.com/a\n")


def test_a_failed_fetch_is_confirmed_with_its_reason(alice):
    (bookmark,) = send("https://example.com/gone")
    services.record_fetch(services.begin_fetch(bookmark.pk), PageMetadata(url=bookmark.url, error="HTTP 404"))
    assert confirmations.due([bookmark.pk])[0].body == "Saved without a title (HTTP 404):\nhttps://example.com/gone"


def test_a_confirmation_marked_sent_is_never_due_again(alice):
    first, second = send("https://example.com/a https://example.com/b")
    fetched(first, "A")
    fetched(second, "B")
    (due,) = confirmations.due([first.pk, second.pk])
    assert confirmations.mark_sent([due.save_id]) == 1
    assert confirmations.due([first.pk]) == confirmations.due([second.pk]) == []
    assert confirmations.mark_sent([due.save_id]) == 0


def test_the_sweep_names_again_a_complete_save_never_sent_every_two_minutes(alice):
    (bookmark,) = send("https://example.com/a")
    fetched(bookmark, "A")
    redis_client().delete(finished.stream_name())  # its entry was lost with Redis
    ChatSave.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    assert confirmations.resend_unsent() == 1
    assert confirmations.resend_unsent() == 0  # named just now: not yet due again
    save_id = ChatSave.objects.get().pk
    assert named_on_the_stream() == [{"bookmarks": "", "save": str(save_id)}]
    assert confirmations.due([], [save_id])[0].body == "Saved: A\nhttps://example.com/a"
    ChatSave.objects.update(queued_at=timezone.now() - timedelta(minutes=3))
    assert confirmations.resend_unsent() == 1
    confirmations.mark_sent([save_id])
    ChatSave.objects.update(queued_at=timezone.now() - timedelta(minutes=3))
    assert confirmations.resend_unsent() == 0


def test_a_failed_fetchs_reason_is_in_the_language_of_the_person_who_saved(alice):
    preferences.remember(alice, language="zh-hans")
    (bookmark,) = send("https://example.com/gone")
    services.record_fetch(services.begin_fetch(bookmark.pk), PageMetadata(url=bookmark.url, error="HTTP 404"))
    assert "（HTTP 错误 404）" in confirmations.due([bookmark.pk])[0].body


def test_the_sweep_leaves_a_save_whose_links_are_still_being_fetched(alice):
    send("https://example.com/a")
    ChatSave.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    assert confirmations.resend_unsent() == 0


def test_a_confirmation_is_written_in_the_language_of_the_person_who_saved(alice):
    preferences.remember(alice, language="zh-hans")
    (bookmark,) = send("https://example.com/post")
    fetched(bookmark, "A page")
    assert confirmations.due([bookmark.pk])[0].body.startswith("已保存：A page")

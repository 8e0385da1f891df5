"""Fetch tasks are queued after the save commits, all of a transaction's at once."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from django.db import transaction

from bookmarks import services
from favsite.celery import app
from tests.fixtures.celery import CELERY_KEY_PREFIX, purge_queues

pytestmark = pytest.mark.django_db(transaction=True)  # commit hooks run


def queued_messages() -> list[dict]:
    """The messages waiting in this run's ``fetch`` queue, oldest first."""
    client = redis.Redis.from_url(app.conf.broker_url)
    return [json.loads(raw) for raw in reversed(client.lrange(f"{CELERY_KEY_PREFIX}fetch", 0, -1))]


def queued_fetches() -> list[int]:
    """The bookmark ids of the fetch tasks waiting in this run's ``fetch`` queue, oldest first."""
    ids = []
    for message in queued_messages():
        assert message["headers"]["task"] == "bookmarks.tasks.fetch_metadata"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


@pytest.fixture
def empty_queues():
    purge_queues()
    yield
    purge_queues()


def test_a_save_queues_its_fetch_when_it_commits(user, empty_queues):
    bookmark = services.save_url(user, "https://example.com/alone").bookmark
    assert queued_fetches() == [bookmark.pk]


def test_the_fetches_of_saves_in_one_transaction_are_sent_when_it_commits(user, empty_queues):
    with transaction.atomic():
        first = services.save_url(user, "https://example.com/1").bookmark
        second = services.save_url(user, "https://example.com/2").bookmark
        assert queued_fetches() == []
    assert queued_fetches() == [first.pk, second.pk]


def test_a_rolled_back_save_sends_no_fetch(user, empty_queues):
    kept = services.save_url(user, "https://example.com/kept").bookmark
    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_url(user, "https://example.com/gone")
        raise RuntimeError("rolled back")
    assert queued_fetches() == [kept.pk]


def test_queued_fetches_show_their_bookmark_to_monitoring(user, empty_queues):
    saved = [services.save_url(user, f"https://example.com/{n}").bookmark for n in range(2)]
    shown = [(message["headers"]["argsrepr"], message["headers"]["kwargsrepr"]) for message in queued_messages()]
    assert shown == [(repr((bookmark.pk,)), repr({})) for bookmark in saved]

"""Confirmations held while a person is "do not disturb", and the one digest that replaces them (no socket)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookmarks import preferences, services
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark
from imgateway import busy, confirmations
from imgateway.linking import link_verified
from imgateway.messages import Incoming, handle_message
from imgateway.models import ChatSave

pytestmark = pytest.mark.django_db

ALICE = "alice@example.org/phone"


@pytest.fixture
def alice(user):
    link_verified(user, "alice@example.org")
    return user


def saved_and_fetched(*titles: str) -> list[int]:
    """One chat message per title, each fetched: the ids of their complete, unsent confirmations."""
    for number, title in enumerate(titles):
        handle_message(Incoming(ALICE, f"https://example.com/{number}", [], f"m{number}"))
        bookmark = Bookmark.objects.get(url=f"https://example.com/{number}")
        metadata = PageMetadata(url=bookmark.url, final_url=bookmark.url, ok=True, title=title, http_status=200)
        services.record_fetch(services.begin_fetch(bookmark.pk), metadata)
    return [
        confirmation.save_id
        for confirmation in confirmations.due([], list(ChatSave.objects.values_list("pk", flat=True)))
    ]


def test_the_digest_names_each_title_held_in_one_message(alice):
    busy.hold(saved_and_fetched("One", "Two", "Three"))
    digest = busy.digest("alice@example.org")
    assert digest.to == "alice@example.org"
    assert digest.body.splitlines()[0] == "Saved 3 links while you were busy:"
    assert [line for line in digest.body.splitlines() if line.startswith("• ")] == ["• One", "• Two", "• Three"]


def test_a_digest_of_more_than_ten_links_points_to_the_list_for_the_rest(alice, settings):
    settings.SITE_URL = "https://fav.example"
    busy.hold(saved_and_fetched(*[f"Page {n}" for n in range(12)]))
    body = busy.digest("alice@example.org").body
    assert body.count("• ") == 10
    assert body.splitlines()[-1] == "and 2 more: https://fav.example/bookmarks/"


def test_the_digest_is_in_the_language_its_owner_chose(alice):
    preferences.remember(alice, language="zh-hans")
    busy.hold(saved_and_fetched("收藏夹"))
    assert busy.digest("alice@example.org").body.startswith("你忙的时候保存了 1 个链接：")


def test_there_is_no_digest_without_held_confirmations(alice):
    saved_and_fetched("Not held")
    assert busy.digest("alice@example.org") is None


def test_held_confirmations_are_neither_due_again_nor_named_by_the_sweep(alice):
    save_ids = saved_and_fetched("Held")
    busy.hold(save_ids)
    ChatSave.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    assert confirmations.due([], save_ids) == []
    assert confirmations.resend_unsent() == 0
    assert busy.held_addresses() == {"alice@example.org"}


def test_a_digest_marked_sent_is_not_sent_again(alice):
    busy.hold(saved_and_fetched("Once"))
    confirmations.mark_sent(busy.digest("alice@example.org").save_ids)
    assert busy.digest("alice@example.org") is None
    assert busy.held_addresses() == set()


def test_a_confirmation_says_whether_its_owner_wants_it_held_while_busy(alice):
    save_ids = saved_and_fetched("Choice")
    assert confirmations.due([], save_ids)[0].hold_when_busy
    preferences.remember(alice, hold_when_busy=False)
    assert not confirmations.due([], save_ids)[0].hold_when_busy


def test_holding_is_turned_off_and_on_in_the_chat_settings(alice_client, user):
    page = alice_client.get("/settings/im/").content.decode()
    assert 'name="hold_when_busy" value="1" checked' in page
    alice_client.post("/settings/im/busy/", {})
    assert not preferences.holds_when_busy(user)
    assert 'name="hold_when_busy" value="1" checked' not in alice_client.get("/settings/im/").content.decode()
    alice_client.post("/settings/im/busy/", {"hold_when_busy": "1"})
    assert preferences.holds_when_busy(user)

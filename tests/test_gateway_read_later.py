""" "Read later" from chat through the real gateway and Prosody (issue 20): ``!later`` marks the links unread."""

from __future__ import annotations

import pytest

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import linked_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_link_sent_with_later_is_saved_unread_without_the_word_in_its_note(gateway, chat_user):
    user, person = linked_person(chat_user)
    person.send(gateway.jid, "https://example.com/long-read !later #essays for the weekend")
    saved = wait_for(lambda: list(Bookmark.objects.filter(owner=user)), bool)[0]
    assert saved.unread is True
    assert saved.note == "for the weekend"
    assert [tag.name for tag in saved.tags.all()] == ["essays"]


def test_a_known_link_sent_again_with_the_chinese_word_is_marked_unread(gateway, chat_user):
    user, person = linked_person(chat_user)
    known = make_bookmark(user, "https://example.com/known")
    reply = person.reply_to(gateway, "https://example.com/known ！稍后")
    assert reply.startswith("Already saved on ")
    assert reply.endswith("\nMarked to read later.")
    assert Bookmark.objects.get(pk=known.pk).unread is True

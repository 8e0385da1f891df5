"""The gateway against a real Prosody: what a person sees in their chat client."""

from __future__ import annotations

import pytest

from bookmarks.models import Bookmark
from imgateway.linking import link_verified
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def linked_user(chat_user, username="alice"):
    person = chat_user()
    user = make_user(username)
    link_verified(user, person.jid)
    return user, person


def test_help_is_answered_in_chat(gateway, chat_user):
    person = chat_user()
    reply = person.reply_to(gateway, "help")
    assert "recent" in reply and "undo" in reply


def test_a_duplicate_url_is_answered_already_saved(gateway, chat_user):
    user, person = linked_user(chat_user)
    from tests.conftest import make_bookmark

    make_bookmark(user, url="https://example.com/known")
    reply = person.reply_to(gateway, "https://example.com/known #x")
    assert "Already saved" in reply
    assert Bookmark.objects.get(owner=user).tags.get().name == "x"

"""Confirmations through the outbox stream, against a real Prosody and Redis."""

from __future__ import annotations

import pytest
import redis as redis_lib
from django.conf import settings

from bookmarks.fetching import finished
from imgateway.bot import outbox
from imgateway.linking import link_verified
from imgateway.models import ChatSave
from tests.conftest import make_user
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_confirmation_left_unacked_by_a_gateway_under_another_resource_is_taken_over(gateway, chat_user):
    person = chat_user()
    user = make_user("alice")
    link_verified(user, person.jid)
    gateway.stop()
    chat_save = ChatSave.objects.create(user=user, jid=person.jid, bare_jid=person.jid, lines=["Saved: Left behind"])
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    stream = finished.stream_name()
    entry_id = client.xadd(stream, {"bookmarks": "", "save": chat_save.pk})
    # A gateway that ran as another resource read the entry ten minutes ago and died before sending it.
    client.xreadgroup(outbox.GROUP, "another-resource", {stream: ">"}, count=10)
    client.xclaim(stream, outbox.GROUP, "another-resource", 0, [entry_id], idle=600_000)
    gateway.start()
    assert person.wait_for_message(lambda m: m.body.startswith("Saved")).body == "Saved: Left behind"
    wait_for(lambda: client.xpending(stream, outbox.GROUP)["pending"], lambda n: n == 0)
    chat_save.refresh_from_db()
    assert chat_save.sent_at is not None


def confirmed(gateway, chat_user, text: str):
    """A person, the stream, and a chat save whose confirmation ``text`` the gateway has sent and recorded."""
    person = chat_user()
    user = make_user("alice")
    link_verified(user, person.jid)
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    chat_save = ChatSave.objects.create(user=user, jid=person.jid, bare_jid=person.jid, lines=[text])
    client.xadd(finished.stream_name(), {"bookmarks": "", "save": chat_save.pk})
    person.wait_for_message(lambda m: m.body == text)
    wait_for(lambda: ChatSave.objects.get(pk=chat_save.pk).sent_at, bool)
    return person, client, chat_save


def named_again_and_drained(client, chat_save) -> None:
    """The save is named on the stream again (a sweep, a second gateway); wait until the entry is handled."""
    client.xadd(finished.stream_name(), {"bookmarks": "", "save": chat_save.pk})
    wait_for(lambda: client.xlen(finished.stream_name()), lambda n: n == 0)


def test_an_entry_named_again_for_a_confirmation_already_sent_sends_nothing_more(gateway, chat_user):
    person, client, chat_save = confirmed(gateway, chat_user, "Saved: Once")
    named_again_and_drained(client, chat_save)
    named_again_and_drained(client, chat_save)
    assert person.reply_to(gateway, "help").startswith("Send me a link")  # anything queued before it has arrived
    assert person.bodies().count("Saved: Once") == 1


def test_a_confirmation_that_went_out_unrecorded_is_recognised_in_the_archive_and_not_sent_again(gateway, chat_user):
    person, client, chat_save = confirmed(gateway, chat_user, "Saved: Unrecorded")
    gateway.stop()
    ChatSave.objects.filter(pk=chat_save.pk).update(sent_at=None)  # as if the gateway died before recording it
    gateway.start()  # it catches up from the archive, where its own confirmation is
    wait_for(lambda: ChatSave.objects.get(pk=chat_save.pk).sent_at, bool)
    named_again_and_drained(client, chat_save)
    assert person.reply_to(gateway, "help").startswith("Send me a link")
    assert person.bodies().count("Saved: Unrecorded") == 1

"""Corrections (XEP-0308) and retractions (XEP-0424) sent by a real slixmpp client, through Prosody."""

from __future__ import annotations

import pytest

from bookmarks.models import Bookmark
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import linked_person

pytestmark = pytest.mark.django_db(transaction=True)


def with_plugins(person) -> None:
    async def register() -> None:
        for plugin in ("xep_0308", "xep_0424"):
            person.client.register_plugin(plugin)

    person.loop.run(register())


def saved_urls(user):
    return lambda: sorted(Bookmark.objects.filter(owner=user).values_list("url", flat=True))


def answer_after(person, before: int, timeout: float = 20) -> str:
    return wait_for(person.bodies, lambda bodies: len(bodies) > before, timeout=timeout)[before]


def correct(person, gateway, message_id: str, body: str) -> str:
    before = len(person.bodies())

    async def send() -> None:
        person.client.plugin["xep_0308"].build_correction(message_id, gateway.jid, mbody=body).send()

    person.loop.run(send())
    return answer_after(person, before)


def retract(person, gateway, message_id: str) -> str:
    before = len(person.bodies())

    async def send() -> None:
        person.client.plugin["xep_0424"].send_retraction(gateway.jid, message_id)

    person.loop.run(send())
    return answer_after(person, before)


def test_a_corrected_link_replaces_the_bookmark_the_message_created(gateway, chat_user):
    user, person = linked_person(chat_user)
    with_plugins(person)
    sent = person.send(gateway.jid, "https://exmaple.com/typo #read")
    wait_for(saved_urls(user), lambda urls: urls == ["https://exmaple.com/typo"])
    reply = correct(person, gateway, sent, "https://example.com/right #read #later")
    assert "Removed: " in reply and "Added: https://example.com/right" in reply
    assert saved_urls(user)() == ["https://example.com/right"]
    assert set(Bookmark.objects.get(owner=user).tags.values_list("name", flat=True)) == {"read", "later"}


def test_a_retracted_message_takes_its_bookmark_with_it_even_after_a_gateway_restart(gateway, chat_user):
    user, person = linked_person(chat_user)
    with_plugins(person)
    sent = person.send(gateway.jid, "https://example.com/oops")
    wait_for(saved_urls(user), lambda urls: urls == ["https://example.com/oops"])
    gateway.stop()
    gateway.start()
    reply = retract(person, gateway, sent)
    assert reply.startswith("Removed: ") and "https://example.com/oops" in reply
    assert saved_urls(user)() == []

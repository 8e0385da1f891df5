"""Do not disturb means do not disturb: a real Prosody, the gateway, a slixmpp client, a worker and pages."""

from __future__ import annotations

import time

import pytest

from imgateway.linking import link_verified, start_link
from imgateway.models import ChatSave
from tests.conftest import make_user
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def show(person, state: str = "") -> None:
    """The person's client announces its presence: "" (available), "dnd", "away", "chat"."""

    async def send() -> None:
        person.client.send_presence(pshow=state or None)

    person.loop.run(send())


def linked_in_chat(gateway, chat_user):
    """A person who linked their address by sending the code, as on the settings page."""
    person, user = chat_user(), make_user("alice")
    code = start_link(user, person.jid)
    assert person.reply_to(gateway, f"link {code.code}").startswith("Linked to alice")
    return user, person


def sees_the_bot(gateway, person) -> None:
    """Wait until the bot asked for the person's presence and the client approved (the client approves all)."""
    wait_for(lambda: list(person.presences), lambda seen: any(p[:2] == (gateway.jid, "subscribe") for p in seen))
    time.sleep(0.5)  # the approval and the person's presence reach the bot


def held(user) -> int:
    return ChatSave.objects.filter(user=user, held_at__isnull=False, sent_at=None).count()


def test_the_bot_asks_for_the_presence_of_an_address_linked_in_chat(gateway, chat_user):
    _user, person = linked_in_chat(gateway, chat_user)
    sees_the_bot(gateway, person)


def test_the_bot_asks_an_address_linked_on_the_web_for_its_presence_when_it_starts(gateway, chat_user):
    person = chat_user()
    link_verified(make_user("alice"), person.jid)
    gateway.stop()
    gateway.start()
    sees_the_bot(gateway, person)


def test_links_saved_while_busy_come_as_exactly_one_digest_when_available(
    gateway, chat_user, celery_worker, page_server
):
    user, person = linked_in_chat(gateway, chat_user)
    sees_the_bot(gateway, person)
    show(person, "dnd")
    time.sleep(0.5)
    before = len(person.bodies())
    person.send(gateway.jid, page_server.route("/one", body="<title>First page</title>"))
    person.send(gateway.jid, page_server.route("/two", body="<title>Second page</title>"))
    wait_for(lambda: held(user), lambda count: count == 2)
    assert len(person.bodies()) == before  # nothing while busy
    show(person)
    digest = person.wait_for_message(lambda m: m.body.startswith("Saved 2 links while you were busy:"))
    assert "First page" in digest.body and "Second page" in digest.body
    time.sleep(1.0)
    assert person.bodies()[before:] == [digest.body]  # exactly one message
    assert not ChatSave.objects.filter(user=user, sent_at=None).exists()


def test_a_digest_held_across_a_gateway_restart_is_sent_when_the_person_is_back(
    gateway, chat_user, celery_worker, page_server
):
    user, person = linked_in_chat(gateway, chat_user)
    sees_the_bot(gateway, person)
    show(person, "dnd")
    time.sleep(0.5)
    person.send(gateway.jid, page_server.route("/kept", body="<title>Kept page</title>"))
    wait_for(lambda: held(user), lambda count: count == 1)
    gateway.stop()
    gateway.start()
    time.sleep(1.0)
    show(person, "chat")
    digest = person.wait_for_message(lambda m: m.body.startswith("Saved 1 link while you were busy:"))
    assert "Kept page" in digest.body


def test_confirmations_arrive_at_once_while_away(gateway, chat_user, celery_worker, page_server):
    _user, person = linked_in_chat(gateway, chat_user)
    sees_the_bot(gateway, person)
    show(person, "away")
    url = page_server.route("/away", body="<title>Away page</title>")
    person.send(gateway.jid, url)
    assert person.wait_for_message(lambda m: m.body.startswith("Saved")).body == f"Saved: Away page\n{url}"


def test_a_person_who_turned_holding_off_gets_confirmations_while_busy(gateway, chat_user, celery_worker, page_server):
    from bookmarks import preferences

    user, person = linked_in_chat(gateway, chat_user)
    preferences.remember(user, hold_when_busy=False)
    sees_the_bot(gateway, person)
    show(person, "dnd")
    time.sleep(0.5)
    url = page_server.route("/busy", body="<title>Busy page</title>")
    person.send(gateway.jid, url)
    assert person.wait_for_message(lambda m: m.body.startswith("Saved")).body == f"Saved: Busy page\n{url}"

"""A standby gateway: the same command with its own resource and a lower priority takes over from the primary.

Real Prosody, two ``run_imgateway`` processes on one bot account, a worker and
local pages. The server routes the bot's messages to the highest priority.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings as django_settings

from bookmarks import services
from bookmarks.models import Bookmark
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import REDIS_PREFIX, Gateway, gateway_env, killed_with_the_save_in_hand, linked_person

pytestmark = pytest.mark.django_db(transaction=True)

FLOOD = 40


@pytest.fixture
def pair(prosody, transactional_db, tmp_path):
    """A primary (priority 10) and a standby (priority 5) gateway, online; both stopped by PID after the test."""
    redis.Redis.from_url(django_settings.REDIS_URL).delete(f"{REDIS_PREFIX}:fetched")
    env = gateway_env(prosody, XMPP_RATE_BURST="1000")
    primary = Gateway(prosody, tmp_path / "primary.log", env)
    standby = Gateway(prosody, tmp_path / "standby.log", {**env, "XMPP_RESOURCE": "standby", "XMPP_PRIORITY": "5"})
    try:
        primary.start()
        standby.start()
        yield primary, standby
    finally:
        for gateway in (primary, standby):
            gateway.stop()
            print(f"--- {gateway.env.get('XMPP_RESOURCE', 'favsite')} log ---\n{gateway.log()[-4000:]}")


def answered_by(person, gateway, body: str) -> str:
    """The resource of the bot that answered ``body``."""
    before = len(person.messages)
    person.send(gateway.jid, body)
    reply = wait_for(lambda: [m for m in person.messages[before:] if m.body], bool)[0]
    return reply.sender.rsplit("/", 1)[1]


def test_the_primary_answers_while_the_standby_stands_by(pair, chat_user):
    primary, _standby = pair
    _user, person = linked_person(chat_user)
    assert answered_by(person, primary, "help") == "favsite"


def test_the_standby_answers_once_the_primary_is_killed(pair, chat_user):
    primary, standby = pair
    _user, person = linked_person(chat_user)
    primary.kill()
    assert answered_by(person, primary, "help") == "standby"
    assert "taking over as the active gateway" in standby.log()


def test_a_message_the_primary_held_when_it_was_killed_is_saved_and_confirmed_by_the_standby(
    pair, chat_user, celery_worker, page_server
):
    primary, standby = pair
    user, person = linked_person(chat_user)
    url = page_server.route("/in-hand", body="<title>In hand</title>")
    killed_with_the_save_in_hand(primary, person, url)
    reply = person.wait_for_message(lambda m: m.body.startswith("Saved"))
    assert (reply.body, reply.sender.rsplit("/", 1)[1]) == (f"Saved: In hand\n{url}", "standby")
    assert list(Bookmark.objects.filter(owner=user).values_list("url", flat=True)) == [url]


def confirmations_while_the_beat_runs(person, count: int) -> list[str]:
    """Wait for ``count`` confirmations while doing the beat's work: a fetch whose task died with the primary
    (killed between its commit and the publish) is queued again (``requeue_unsent``)."""

    def received() -> list[str]:
        services.requeue_unsent()
        return [body for body in person.bodies() if body.startswith("Saved")]

    return wait_for(received, lambda got: len(got) >= count, timeout=60, interval=0.5)


def test_a_flood_while_the_primary_is_killed_saves_and_confirms_each_link_once(
    pair, chat_user, celery_worker, page_server, settings
):
    settings.FETCH_REQUEUE_AFTER = 3.0
    primary, _standby = pair
    user, person = linked_person(chat_user)
    urls = [page_server.route(f"/p{n}", body=f"<title>Page {n}</title>") for n in range(FLOOD)]
    for url in urls[: FLOOD // 2]:
        person.send(primary.jid, url)
    wait_for(lambda: Bookmark.objects.filter(owner=user).count(), lambda count: count >= 5)
    primary.kill()
    for url in urls[FLOOD // 2 :]:
        person.send(primary.jid, url)
    wait_for(lambda: Bookmark.objects.filter(owner=user).count(), lambda count: count >= FLOOD, timeout=60)
    confirmations_while_the_beat_runs(person, FLOOD)
    time.sleep(2)  # room for a second copy of any confirmation to arrive
    confirmations = [body for body in person.bodies() if body.startswith("Saved")]
    assert Bookmark.objects.filter(owner=user).count() == FLOOD
    assert sorted(body.splitlines()[1] for body in confirmations) == sorted(urls)

"""The bot looks like a contact: a name and an avatar, a bot identity, a software version, a status line."""

from __future__ import annotations

import hashlib

import pytest

import favsite
from imgateway.bot import profile
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ask(person, query):
    """Run ``query(client)`` (a coroutine function) on ``person``'s chat client, with the plugins it needs."""

    async def run():
        for plugin in ("xep_0030", "xep_0054", "xep_0060", "xep_0092"):
            person.client.register_plugin(plugin)
        return await query(person.client)

    return person.loop.run(run())


def bot_full_jid(gateway) -> str:
    return f"{gateway.jid}/{gateway.env.get('XMPP_RESOURCE', 'favsite')}"


def test_service_discovery_says_the_bot_is_a_bot_called_favsite(gateway, chat_user):
    info = ask(chat_user(), lambda client: client.plugin["xep_0030"].get_info(jid=bot_full_jid(gateway)))
    assert ("client", "bot", None, "favsite") in info["disco_info"]["identities"]


def test_the_bot_answers_a_software_version_query(gateway, chat_user):
    version = ask(chat_user(), lambda client: client.plugin["xep_0092"].get_version(bot_full_jid(gateway)))
    software = version["software_version"]
    assert (software["name"], software["version"]) == ("favsite", favsite.__version__)


def test_the_bots_vcard_has_its_nickname_and_avatar(gateway, chat_user):
    person = chat_user()

    async def vcard(client):
        return (await client.plugin["xep_0054"].get_vcard(gateway.jid, cached=False))["vcard_temp"]

    card = wait_for(lambda: ask(person, vcard), lambda card: card["PHOTO"]["BINVAL"])
    assert card["NICKNAME"] == ["favsite"]
    assert card["PHOTO"]["TYPE"] == "image/png"
    assert card["PHOTO"]["BINVAL"] == profile.AVATAR.read_bytes()


def test_the_bots_avatar_is_published_for_clients_that_read_xep_0084(gateway, chat_user):
    person = chat_user()
    avatar = profile.AVATAR.read_bytes()

    async def metadata(client):
        items = await client.plugin["xep_0060"].get_items(gateway.jid, "urn:xmpp:avatar:metadata")
        return [item["id"] for item in items["pubsub"]["items"]]

    assert wait_for(lambda: ask(person, metadata), bool) == [hashlib.sha1(avatar).hexdigest()]  # noqa: S324


def test_a_contact_sees_the_avatars_hash_and_the_status_line_in_the_bots_presence(gateway, chat_user):
    person = chat_user()
    person.subscribe(gateway.jid)
    wait_for(lambda: person.presences, lambda p: any("link" in status for _f, _t, status in p))
    photo = hashlib.sha1(profile.AVATAR.read_bytes()).hexdigest()  # noqa: S324
    wait_for(lambda: person.photo_hashes, lambda hashes: photo in hashes)

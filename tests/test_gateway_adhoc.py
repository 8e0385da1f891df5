"""Commands as menus: a chat client lists the bot's ad-hoc commands (XEP-0050) and fills in their forms (XEP-0004).

A real Prosody, the real gateway process, and a slixmpp client with the
plugins Gajim or Converse.js would use.
"""

from __future__ import annotations

import pytest
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0004 import Form

from bookmarks import preferences
from bookmarks.models import Bookmark
from imgateway.models import LinkedJid, ReceivedMessage
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for
from tests.fixtures.prosody import linked_person

pytestmark = pytest.mark.django_db(transaction=True)

LINKED_MENU = ["recent", "find", "tags", "add", "delete", "account"]


class Menus:
    """``person``'s chat client using the bot's commands, as a client that shows menus does."""

    def __init__(self, gateway, person):
        self.person = person
        self.bot = f"{gateway.jid}/{gateway.env.get('XMPP_RESOURCE', 'favsite')}"

        async def plugins():
            for plugin in ("xep_0030", "xep_0004", "xep_0050"):
                person.client.register_plugin(plugin)

        person.loop.run(plugins())

    def listing(self) -> list[tuple[str, str]]:
        """The (node, name) of each command the bot lists, in its order."""

        async def ask(client):
            return await client.plugin["xep_0050"].get_commands(self.bot)

        result = self.person.loop.run(ask(self.person.client))
        return [(item["node"], item["name"]) for item in result["disco_items"].iterables]

    def execute(self, node: str):
        """Start ``node``: the bot's first answer (a command element)."""
        return self.send(node)

    def send(self, node: str, **options):
        async def command(client):
            return await client.plugin["xep_0050"].send_command(self.bot, node, **options)

        return self.person.loop.run(command(self.person.client))["command"]

    def submit(self, answer, values: dict[str, str], action: str = "complete"):
        """Send ``values`` as the form of the session ``answer`` belongs to; the bot's next answer."""
        form = Form()
        form["type"] = "submit"
        for var, value in values.items():
            form.add_field(var=var, value=value)
        return self.send(answer["node"], action=action, payload=form, sessionid=answer["sessionid"])

    def run(self, node: str, values: dict[str, str]):
        return self.submit(self.execute(node), values)


def notes(answer) -> list[str]:
    return [text for _type, text in answer["notes"]]


def rows(answer) -> list[dict]:
    return answer["form"].get_items()


def test_the_bot_says_it_offers_commands(gateway, chat_user):
    person = chat_user()
    menus = Menus(gateway, person)

    async def features(client):
        return (await client.plugin["xep_0030"].get_info(jid=menus.bot))["disco_info"]["features"]

    assert "http://jabber.org/protocol/commands" in person.loop.run(features(person.client))


def test_a_linked_address_lists_the_commands(gateway, chat_user):
    _user, person = linked_person(chat_user)
    listing = Menus(gateway, person).listing()
    assert [node for node, _name in listing] == LINKED_MENU
    assert ("recent", "Recent bookmarks") in listing


def test_an_unlinked_address_sees_only_how_to_link(gateway, chat_user):
    assert Menus(gateway, chat_user()).listing() == [("link", "How to link")]


def test_an_unlinked_address_cannot_run_recent(gateway, chat_user):
    menus = Menus(gateway, chat_user())
    with pytest.raises(IqError) as refused:
        menus.execute("recent")
    assert refused.value.iq["error"]["condition"] == "forbidden"


def test_how_to_link_links_the_address_with_the_code_from_the_website(gateway, chat_user):
    from imgateway.linking import start_link

    person = chat_user()
    user = make_user("carol")
    code = start_link(user, person.jid).code
    answer = Menus(gateway, person).run("link", {"code": code})
    assert notes(answer) == ["Linked to carol. Send me a link to save it; send help for the commands."]
    assert LinkedJid.objects.get(jid=person.jid).user == user


def test_recent_lists_as_many_bookmarks_as_asked(gateway, chat_user):
    user, person = linked_person(chat_user)
    for number in range(4):
        make_bookmark(user, f"https://example.com/recent/{number}")
    menus = Menus(gateway, person)
    first = menus.execute("recent")
    assert first["status"] == "executing"
    assert first["form"].get_fields()["count"]["value"] == "5"
    answer = menus.submit(first, {"count": "3"})
    assert answer["status"] == "completed"
    assert [row["url"] for row in rows(answer)] == [f"https://example.com/recent/{n}" for n in (3, 2, 1)]


def test_find_returns_the_matching_bookmarks_and_a_link_to_the_web(gateway, chat_user):
    user, person = linked_person(chat_user)
    match = make_bookmark(user, "https://example.com/asyncio", title="Python asyncio")
    make_bookmark(user, "https://example.com/other", title="Gardening")
    answer = Menus(gateway, person).run("find", {"query": "asyncio"})
    assert rows(answer) == [{"id": str(match.pk), "title": "Python asyncio", "url": match.url}]
    assert answer["form"].get_fields()["web"]["value"] == "http://testserver/bookmarks/?q=asyncio"


def test_tags_lists_the_tags_with_their_counts(gateway, chat_user):
    user, person = linked_person(chat_user)
    make_bookmark(user, tags=["python", "web"])
    make_bookmark(user, tags=["python"])
    answer = Menus(gateway, person).execute("tags")
    assert answer["status"] == "completed"
    assert [(row["tag"], row["count"]) for row in rows(answer)] == [("#python", "2"), ("#web", "1")]


def test_add_a_link_saves_it_with_its_tags_and_note(gateway, chat_user):
    user, person = linked_person(chat_user)
    url = "https://example.com/added"
    answer = Menus(gateway, person).run("add", {"url": url, "tags": "python, web", "note": "read later"})
    assert notes(answer) == [f"Saved: example.com/added\n{url}"]
    bookmark = Bookmark.objects.get(owner=user)
    assert (bookmark.url, bookmark.note, bookmark.source) == (url, "read later", Bookmark.Source.IM)
    assert sorted(bookmark.tags.values_list("name", flat=True)) == ["python", "web"]
    assert not ReceivedMessage.objects.exists()


def test_adding_a_link_again_says_when_it_was_saved(gateway, chat_user):
    user, person = linked_person(chat_user)
    bookmark = make_bookmark(user, "https://example.com/again", title="Again")
    answer = Menus(gateway, person).run("add", {"url": bookmark.url})
    assert notes(answer)[0].startswith("Already saved on ")
    assert Bookmark.objects.filter(owner=user).count() == 1


def test_add_refuses_a_bad_url_and_saves_nothing(gateway, chat_user):
    user, person = linked_person(chat_user)
    answer = Menus(gateway, person).run("add", {"url": "ftp://example.com/file"})
    assert answer["notes"][0][0] == "error"
    assert notes(answer)[0].startswith("Not saved: ftp://example.com/file")
    assert not Bookmark.objects.filter(owner=user).exists()


def test_delete_removes_a_bookmark_by_its_number(gateway, chat_user):
    user, person = linked_person(chat_user)
    doomed, kept = make_bookmark(user), make_bookmark(user)
    answer = Menus(gateway, person).run("delete", {"ids": str(doomed.pk)})
    assert notes(answer) == ["Deleted 1 bookmark."]
    assert list(Bookmark.objects.filter(owner=user)) == [kept]


def test_undo_removes_the_last_link_a_message_from_this_address_saved(gateway, chat_user):
    user, person = linked_person(chat_user)
    earlier = make_bookmark(user, "https://example.com/from-the-web")
    person.send(gateway.jid, "https://example.com/from-chat")
    wait_for(lambda: Bookmark.objects.filter(owner=user).count(), lambda n: n == 2)
    answer = Menus(gateway, person).run("delete", {"undo": "1"})
    assert notes(answer) == ["Removed: example.com/from-chat\nhttps://example.com/from-chat"]
    assert list(Bookmark.objects.filter(owner=user)) == [earlier]


def test_linked_account_shows_the_account_and_unlinks_only_after_confirmation(gateway, chat_user):
    user, person = linked_person(chat_user, username="dora")
    menus = Menus(gateway, person)
    first = menus.execute("account")
    shown = [field["value"] for field in first["form"].get_fields().values() if field["type"] == "fixed"]
    assert shown == ["Account: dora", f"This address: {person.jid}"]
    assert first["actions"] == {"next"}
    second = menus.submit(first, {"action": "unlink"}, action="next")
    assert second["status"] == "executing"
    assert LinkedJid.objects.filter(jid=person.jid).exists()  # asked, not done
    answer = menus.submit(second, {"confirm": "1"})
    assert notes(answer)[0].startswith("This address is no longer linked to dora.")
    assert not LinkedJid.objects.filter(jid=person.jid).exists()
    assert menus.listing() == [("link", "How to link")]


def test_linked_account_left_unconfirmed_keeps_the_link(gateway, chat_user):
    _user, person = linked_person(chat_user)
    menus = Menus(gateway, person)
    second = menus.submit(menus.execute("account"), {"action": "unlink"}, action="next")
    assert notes(menus.submit(second, {"confirm": "0"})) == ["Nothing changed."]
    assert LinkedJid.objects.filter(jid=person.jid).exists()


def test_a_person_who_chose_chinese_gets_chinese_menus_and_forms(gateway, chat_user):
    user, person = linked_person(chat_user)
    preferences.remember(user, language="zh-hans")
    menus = Menus(gateway, person)
    assert ("recent", "最近的书签") in menus.listing()
    form = menus.execute("add")["form"]
    assert form["title"] == "添加链接"
    assert form.get_fields()["url"]["label"] == "链接"

"""The bot's address where a new user looks for it: the landing page and the top of Settings."""

from __future__ import annotations

import re

import pytest

from imgateway.models import LinkedJid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bot_jid(settings):
    settings.XMPP_JID = "bookmarks@example.org"


def headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", heading).strip() for heading in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]


def section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_the_landing_page_names_the_bots_address(client):
    assert '<strong class="bot-jid">bookmarks@example.org</strong>' in client.get("/").content.decode()


def test_settings_puts_chat_linking_first(alice_client):
    html = alice_client.get("/settings/").content.decode()
    assert headings(html)[:2] == ["Save links from your chat client", "Account"]
    assert "bookmarks@example.org" in section(html, "chat")


def test_the_account_box_no_longer_hides_the_chat_link(alice_client):
    html = alice_client.get("/settings/").content.decode()
    assert "/settings/im/" not in section(html, "account")


def test_settings_offers_to_link_a_first_chat_address(alice_client):
    chat = section(alice_client.get("/settings/").content.decode(), "chat")
    assert "No chat address is linked yet." in chat
    assert re.search(r'class="button primary" href="/settings/im/">Link a chat address<', chat)


def test_settings_shows_the_linked_addresses_and_where_to_manage_them(alice_client, user):
    LinkedJid.objects.create(user=user, jid="alice@example.net")
    chat = section(alice_client.get("/settings/").content.decode(), "chat")
    assert '<span class="jid">alice@example.net</span>' in chat
    assert 'href="/settings/im/">Manage chat addresses<' in chat

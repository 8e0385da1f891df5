"""The empty bookmark list tells a new user how to save from chat (issue 20)."""

import pytest

from imgateway.models import LinkedJid

pytestmark = pytest.mark.django_db


def test_empty_list_names_the_bots_address(alice_client, settings):
    settings.XMPP_JID = "bookmarks@example.org/gateway"
    page = alice_client.get("/bookmarks/").content.decode()
    assert '<strong class="bot-jid">bookmarks@example.org</strong>' in page


def test_empty_list_links_to_chat_settings_while_no_address_is_linked(alice_client, settings):
    settings.XMPP_JID = "bookmarks@example.org"
    page = alice_client.get("/bookmarks/").content.decode()
    assert 'href="/settings/im/">Link your chat address first</a>' in page


def test_empty_list_leaves_out_the_link_step_once_an_address_is_linked(alice_client, user, settings):
    settings.XMPP_JID = "bookmarks@example.org"
    LinkedJid.objects.create(user=user, jid="alice@example.org")
    page = alice_client.get("/bookmarks/").content.decode()
    assert "bookmarks@example.org" in page
    assert "Link your chat address first" not in page


def test_empty_list_without_a_configured_bot_names_no_address(alice_client, settings):
    settings.XMPP_JID = ""
    page = alice_client.get("/bookmarks/").content.decode()
    assert "bot-jid" not in page
    assert "Add your first bookmark" in page

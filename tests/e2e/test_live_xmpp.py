"""A link sent over XMPP (real Prosody, the real gateway process) shows up in the open list page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import make_bookmark
from tests.e2e.conftest import log_in, screenshot
from tests.fixtures.prosody import linked_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_link_sent_from_a_chat_client_appears_in_the_open_page(page, live_server, gateway, chat_user):
    user, person = linked_person(chat_user)
    make_bookmark(user, title="Saved earlier on the web")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.evaluate("window.notReloaded = true")

    person.send(gateway.jid, "https://example.com/sent-over-xmpp #phone 路上看到的")

    arrived = page.locator("li.bookmark", has_text="example.com/sent-over-xmpp")
    expect(arrived).to_be_visible()
    expect(arrived).to_contain_text("from chat")
    expect(arrived.locator("a.tag", has_text="#phone")).to_be_visible()
    expect(arrived).to_contain_text("路上看到的")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "live-arrival")

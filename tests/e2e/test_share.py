"""Sharing from a phone and chat linking first in Settings, in Chromium, on a phone and a laptop, in both languages."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from bookmarks.models import Bookmark
from tests.conftest import make_user
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = [("en", 390), ("zh-hans", 390), ("en", 1100), ("zh-hans", 1100)]
SAVE = {"en": "Save", "zh-hans": "保存"}


@pytest.fixture(params=SCREENS, ids=[f"{language}-{width}" for language, width in SCREENS])
def screen(browser, live_server, request):
    """A page of the test's width (a 390 px phone or a laptop) in the test's language."""
    language, width = request.param
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="UTC", viewport={"width": width, "height": 844}
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    try:
        yield context.new_page(), language, width
    finally:
        context.close()


def test_a_shared_page_is_saved_with_one_tap(screen, live_server):
    page, language, width = screen
    user = make_user("alice")
    log_in(page, live_server, user)
    # What Chrome on Android sends for the manifest's share target: the link in ``text``.
    shared = {"title": "分享的文章 A shared article", "text": "https://example.com/articles/2026/a-shared-article"}
    page.goto("/bookmarks/share/?" + urlencode(shared))
    expect(page.locator("#id_url")).to_have_value(shared["text"])
    expect(page.locator("#id_title")).to_have_value(shared["title"])
    save = page.get_by_role("button", name=SAVE[language], exact=True)
    expect(save).to_be_in_viewport()
    expect(page.locator("#id_url")).not_to_be_focused()  # no keyboard over the Save button
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"share-{width}-{language}")
    save.click()
    page.wait_for_url("**/bookmarks/")
    expect(page.locator("li.bookmark").first).to_contain_text(shared["title"])
    assert Bookmark.objects.get(owner=user).url == shared["text"]


def test_settings_open_with_chat_linking(screen, live_server, settings):
    page, language, width = screen
    settings.XMPP_JID = "bookmarks@example.org"
    log_in(page, live_server, make_user("alice"))
    page.goto("/settings/")
    chat, account = page.locator("#chat"), page.locator("#account")
    expect(page.locator("section.chat-linking .bot-jid")).to_have_text("bookmarks@example.org")
    assert chat.bounding_box()["y"] < account.bounding_box()["y"]
    expect(page.locator("section.chat-linking a.button")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"settings-top-{width}-{language}")

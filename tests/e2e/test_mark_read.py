"""Mark read from the list on a 390 px phone, in English and Chinese, with and without JavaScript (issue 20)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = {"en": "en", "zh-hans": "zh-hans"}


def _phone(browser, live_server, language: str, javascript: bool):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="UTC", viewport=PHONE, java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context


def _words(language: str) -> tuple[str, str, str]:
    with translation.override(language):
        return translation.gettext("Mark read"), translation.gettext("Read later"), translation.gettext("unread")


@pytest.mark.parametrize("language", LANGUAGES)
def test_mark_read_changes_the_row_in_place(browser, live_server, language):
    mark_read, read_later, unread = _words(language)
    user = make_user("alice")
    bookmark = make_bookmark(user, title="A long read", unread=True)
    context = _phone(browser, live_server, language, javascript=True)
    try:
        page = context.new_page()
        log_in(page, live_server, user)
        page.goto("/bookmarks/")
        row = page.locator(f"#b{bookmark.pk}")
        expect(row.locator(".badge.unread")).to_have_text(unread)
        page.evaluate("window.stillThisPage = true")
        row.locator("form.mark button").focus()
        page.keyboard.press("Enter")
        expect(page.locator(f"#b{bookmark.pk} form.mark button")).to_contain_text(read_later)
        expect(page.locator(f"#b{bookmark.pk} .badge.unread")).to_have_count(0)
        assert page.evaluate("window.stillThisPage") is True  # no page load
        expect(page.locator(f"#b{bookmark.pk} form.mark button")).to_be_focused()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert Bookmark.objects.get(pk=bookmark.pk).unread is False
        assert mark_read not in page.locator(f"#b{bookmark.pk}").inner_text()
        screenshot(page, f"list-390-marked-read-{language}")
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_mark_read_works_without_javascript(browser, live_server, language):
    mark_read, read_later, _unread = _words(language)
    user = make_user("alice")
    bookmark = make_bookmark(user, title="A long read", unread=True)
    context = _phone(browser, live_server, language, javascript=False)
    try:
        page = context.new_page()
        log_in(page, live_server, user)
        page.goto("/bookmarks/?unread=1")
        page.locator(f"#b{bookmark.pk} form.mark button").click()
        page.wait_for_load_state()
        assert page.url.endswith("/bookmarks/?unread=1")
        expect(page.locator(".messages, [role=status]").first).to_be_visible()
        assert Bookmark.objects.get(pk=bookmark.pk).unread is False
        # Filtered to unread, the list no longer has it.
        expect(page.locator(f"#b{bookmark.pk}")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_filter_bar_fits_a_phone_and_works_from_the_keyboard(browser, live_server, language):
    user = make_user("alice")
    make_bookmark(user, title="Saved on the web")
    make_bookmark(user, title="Saved from chat", source="im")
    context = _phone(browser, live_server, language, javascript=True)
    try:
        page = context.new_page()
        log_in(page, live_server, user)
        page.goto("/bookmarks/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.locator("#filter-from").focus()
        page.locator("#filter-from").select_option("chat")
        page.keyboard.press("Tab")  # the sort
        page.keyboard.press("Tab")  # the bar's button
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/bookmarks/\?from=chat&sort=newest$"))
        expect(page.locator("li.bookmark")).to_have_count(1)
        expect(page.locator("li.bookmark .title")).to_have_text("Saved from chat")
        screenshot(page, f"list-390-filter-bar-{language}")
    finally:
        context.close()

"""Kept page text in a real browser: a search that matched inside it, and the reader view, on a phone and in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bookmarks.fetching.text import extract_text
from bookmarks.models import PageText
from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import log_in, screenshot
from tests.fixtures.articles import CHINESE_BODY_ONLY, ENGLISH_BODY_ONLY, chinese_article, english_article

pytestmark = pytest.mark.django_db(transaction=True)


def keep(bookmark, html: str) -> None:
    text, language = extract_text(html)
    PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text=text, language=language, word_count=300)


def test_a_word_found_in_the_text_is_shown_marked_and_the_reader_opens(page, live_server):
    user = make_user("alice")
    keep(make_bookmark(user, "https://blog.example.com/joints", title="Joints that hold"), english_article())
    keep(make_bookmark(user, "https://example.cn/mu", title="传统木工的智慧"), chinese_article())
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.get_by_role("searchbox", name="Search bookmarks").fill(ENGLISH_BODY_ONLY)
    page.keyboard.press("Enter")
    expect(page.locator("li.bookmark")).to_have_count(1)
    expect(page.locator("li.bookmark .excerpt mark")).to_have_text(ENGLISH_BODY_ONLY)
    screenshot(page, "search-in-text")
    page.get_by_role("link", name="Read Joints that hold").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Joints that hold")
    expect(page.locator(".reader-text")).to_contain_text("Woodworkers have joined boards")
    screenshot(page, "reader")

    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"/bookmarks/?q={CHINESE_BODY_ONLY}")
    expect(page.locator("li.bookmark .excerpt mark")).to_have_text(CHINESE_BODY_ONLY)
    expect(page.locator("li.bookmark .excerpt .where")).to_have_text("在网页正文中:")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "search-in-text-390-zh")
    page.get_by_role("link", name="阅读 传统木工的智慧").click()
    expect(page.get_by_role("link", name="原网页")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "reader-390-zh")


def test_broken_and_moved_links_show_on_the_list_and_in_the_sidebar(page, live_server):
    from django.utils import timezone

    from bookmarks.models import LinkHealth

    user = make_user("alice")
    gone = make_bookmark(user, "https://gone.example.com/post", title="Gone post")
    LinkHealth.objects.create(bookmark=gone, outcome="gone", broken=True, failures=2, failing_since=timezone.now())
    keep(gone, english_article())
    moved = make_bookmark(user, "https://old.example.com/a", title="Moved page")
    LinkHealth.objects.create(bookmark=moved, outcome="moved", final_url="https://new.example.com/a")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.get_by_role("link", name="Broken links (1)").click()
    expect(page.locator("li.bookmark")).to_have_count(1)
    expect(page.locator("li.bookmark .badge.warn")).to_have_text("broken link")
    page.goto("/bookmarks/")
    screenshot(page, "link-health")
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.reload()
    expect(page.get_by_role("button", name="改用新链接 Moved page")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "link-health-390-zh")
    page.goto(f"/bookmarks/{gone.pk}/read/")
    expect(page.locator(".reader-broken")).to_contain_text("这个链接似乎已失效")
    screenshot(page, "reader-broken-390-zh")


def test_text_keeping_is_turned_off_in_settings(page, live_server):
    from bookmarks import services

    user = make_user("alice")
    log_in(page, live_server, user)
    page.goto("/settings/")
    keep_box = page.get_by_role("checkbox", name="Keep the readable text", exact=False)
    expect(keep_box).to_be_checked()
    keep_box.uncheck()
    page.locator("form[action='/settings/page-text/']").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Page text is no longer kept (0 texts deleted).")).to_be_visible()
    assert not services.keeps_text(user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto("/settings/")
    page.locator("#page-text").scroll_into_view_if_needed()
    expect(page.get_by_role("checkbox", name="保存我收藏的网页的可读正文", exact=False)).not_to_be_checked()
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    screenshot(page, "settings-page-text-390-zh")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide

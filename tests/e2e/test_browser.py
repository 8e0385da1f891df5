"""What a person does in a real browser (headless Chromium): sign up, add, search, tag, switch language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bookmarks import services
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import add_bookmark, log_in, screenshot, sign_up

pytestmark = pytest.mark.django_db(transaction=True)


def item(page, title: str):
    return page.locator("li.bookmark", has_text=title)


def test_a_new_user_adds_three_bookmarks_filters_by_tag_and_deletes_one(page):
    sign_up(page)
    add_bookmark(page, "https://example.com/django", "Django guide", "python web")
    add_bookmark(page, "https://example.com/flask", "Flask notes", "python")
    add_bookmark(page, "https://example.cn/shoucang", "我的收藏夹整理方法", "中文 收藏")
    expect(page.locator("li.bookmark")).to_have_count(3)

    page.locator("li.bookmark a.tag", has_text="#python").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tagged “python”")
    expect(page.locator("li.bookmark")).to_have_count(2)

    item(page, "Flask notes").get_by_role("link", name="Delete Flask notes").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted “Flask notes”")
    expect(page.locator("li.bookmark")).to_have_count(2)
    assert sorted(Bookmark.objects.values_list("title", flat=True)) == ["Django guide", "我的收藏夹整理方法"]


def test_searching_a_two_character_chinese_word_finds_it_and_keeps_it_in_the_box(page, live_server):
    user = make_user("alice")
    make_bookmark(user, "https://example.cn/a", title="我的收藏夹整理方法", tags="中文")
    make_bookmark(user, "https://example.cn/b", title="如何保存网址")
    make_bookmark(user, "https://example.com/c", title="Something else")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.get_by_role("searchbox", name="Search bookmarks").fill("收藏")
    page.keyboard.press("Enter")
    expect(page.locator("li.bookmark")).to_have_count(1)
    expect(item(page, "我的收藏夹整理方法")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search bookmarks")).to_have_value("收藏")

    page.get_by_role("searchbox", name="Search bookmarks").fill("网址 -收藏")
    page.keyboard.press("Enter")
    expect(page.locator("li.bookmark")).to_have_count(1)
    expect(item(page, "如何保存网址")).to_be_visible()


def test_bulk_tagging_adds_a_tag_to_the_ticked_bookmarks(page, live_server):
    user = make_user("alice")
    for title in ("First read", "Second read", "Not this one"):
        make_bookmark(user, title=title)
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.get_by_role("checkbox", name="Select “First read”").check()
    page.get_by_role("checkbox", name="Select “Second read”").check()
    page.locator("#bulk-action").select_option("add_tag")
    page.locator("#bulk-tag").fill("weekend")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Tagged 2 bookmarks.")
    expect(item(page, "First read").locator("a.tag", has_text="#weekend")).to_be_visible()
    expect(item(page, "Second read").locator("a.tag", has_text="#weekend")).to_be_visible()
    expect(item(page, "Not this one").locator("a.tag")).to_have_count(0)


def test_select_all_and_bulk_delete_after_confirming(page, live_server):
    user = make_user("alice")
    for title in ("One", "Two"):
        make_bookmark(user, title=title)
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Select all").check()
    page.locator("#bulk-action").select_option("delete")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted 2 bookmarks.")
    assert not Bookmark.objects.exists()


def test_switching_the_language_to_chinese_and_back(page, live_server):
    user = make_user("alice")
    make_bookmark(user, title="Hello", status=Bookmark.Status.PENDING)
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("书签")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(item(page, "Hello")).to_contain_text("标题获取中")

    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bookmarks")


def test_a_bookmark_saved_from_chat_appears_on_the_open_list_without_a_reload(page, live_server):
    user = make_user("alice")
    make_bookmark(user, title="Already here")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.evaluate("window.notReloaded = true")
    services.save_url(user, "https://example.com/from-chat", title="Sent from my phone", source="im")
    expect(item(page, "Sent from my phone")).to_be_visible()
    expect(item(page, "Sent from my phone")).to_contain_text("from chat")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("li.bookmark").first.inner_text().startswith("Sent from my phone")


def test_an_arriving_title_replaces_the_pending_badge_in_place(page, live_server):
    user = make_user("alice")
    bookmark = make_bookmark(user, "https://example.com/slow", status=Bookmark.Status.PENDING)
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    expect(page.locator(f"#b{bookmark.pk}")).to_contain_text("title on its way")
    # What the worker does when the fetch ends.
    services.record_fetch(bookmark, PageMetadata(url=bookmark.url, ok=True, title="The Slow Page"))
    expect(page.locator(f"#b{bookmark.pk}")).to_contain_text("The Slow Page")
    expect(page.locator(f"#b{bookmark.pk}")).not_to_contain_text("title on its way")


def test_tags_page_renames_a_tag(page, live_server):
    user = make_user("alice")
    make_bookmark(user, title="Typo", tags="pyhton")
    log_in(page, live_server, user)
    page.goto("/bookmarks/tags/")
    page.get_by_label("New name for #pyhton").fill("python")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("Renamed #pyhton to #python.")
    screenshot(page, "tags")


def test_the_list_fits_a_phone_screen(page, live_server):
    user = make_user("alice")
    make_bookmark(user, title="A rather long title that has to wrap on a small phone screen", tags="python web")
    log_in(page, live_server, user)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/bookmarks/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375


def test_keyboard_slash_focuses_the_search_box(page, live_server):
    user = make_user("alice")
    make_bookmark(user, title="Anything")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    page.locator("body").press("/")
    expect(page.get_by_role("searchbox", name="Search bookmarks")).to_be_focused()


def test_the_chat_addresses_page_shows_a_link_made_from_the_phone_without_a_reload(page, live_server, settings):
    from imgateway import linking

    settings.XMPP_JID = "favsite@example.org"
    user = make_user("alice")
    code = linking.start_link(user, "alice@example.net")
    log_in(page, live_server, user)
    page.goto("/settings/im/")
    expect(page.get_by_role("link", name="Open in my chat client")).to_have_attribute(
        "href", f"xmpp:favsite@example.org?message;body=link%20{code.code}"
    )
    qr = page.get_by_role("img", name="QR code that links alice@example.net")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth") > 0  # drawn, not just its alt text
    screenshot(page, "link-from-phone")
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.reload()
    expect(page.get_by_role("link", name="在我的聊天软件中打开")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways on a phone
    screenshot(page, "link-from-phone-390-zh")
    linking.link_with_code("alice@example.net", code.code)  # what the bot does when the code arrives
    expect(page.locator(".linked-jids .jid")).to_have_text(["alice@example.net"])
    expect(page.locator(".linked-now")).to_be_visible()


def test_holding_confirmations_while_busy_is_turned_off_on_the_chat_addresses_page(page, live_server):
    from bookmarks import preferences

    user = make_user("alice")
    log_in(page, live_server, user)
    page.goto("/settings/im/")
    hold = page.get_by_role("checkbox", name="do not disturb", exact=False)
    expect(hold).to_be_checked()
    hold.uncheck()
    page.locator("form[action='/settings/im/busy/']").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Confirmations arrive at once, even while you are busy.")).to_be_visible()
    assert not preferences.holds_when_busy(user)
    screenshot(page, "hold-while-busy")
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.reload()
    expect(page.get_by_role("checkbox", name="请勿打扰", exact=False)).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "hold-while-busy-390-zh")


def test_no_page_breaks_the_content_security_policy(page, live_server):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    user = make_user("alice")
    make_bookmark(user, title="A page", tags=["t"])
    log_in(page, live_server, user)
    for path in (
        "/bookmarks/",
        "/bookmarks/tags/",
        "/bookmarks/add/",
        "/bookmarks/import/",
        "/settings/",
        "/settings/im/",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto("/settings/")
    field = page.get_by_role("textbox", name="RSS feed address")
    field.click()
    assert page.evaluate("window.getSelection().toString() || document.activeElement.selectionEnd") != 0
    assert violations == []

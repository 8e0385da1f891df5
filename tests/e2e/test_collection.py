"""A lived-in collection in the browser: fetched titles, site icons, tags, unread and Chinese titles.

Bookmarks here are saved through the services and their fetches recorded as
the worker records them, so the list shows what a daily user sees (titles,
sites, icons), not "title on its way". These tests also draw the README's
screenshots when asked: ``FAVSITE_SCREENSHOTS=docs/screenshots
.venv/bin/python -m pytest tests/e2e``.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from bookmarks import services
from bookmarks.fetching.metadata import PageMetadata
from bookmarks.models import Bookmark, Favicon
from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# url, page title, site name, tags, unread; the newest last (each is saved after the one before)
COLLECTION = [
    (
        "https://docs.djangoproject.com/en/5.2/topics/db/queries/",
        "Making queries | Django documentation",
        "Django Project",
        "python django",
        False,
    ),
    ("https://www.sqlite.org/fts5.html", "SQLite FTS5 Extension", "SQLite", "search database", False),
    ("https://slixmpp.readthedocs.io/en/latest/", "Slixmpp's documentation", "Read the Docs", "xmpp python", True),
    (
        "https://www.ruanyifeng.com/blog/2019/09/learn-python.html",
        "Python 入门教程：从零开始的学习路线",
        "阮一峰的网络日志",
        "python 中文",
        True,
    ),
    (
        "https://conversations.im/",
        "Conversations: the very last word in instant messaging",
        "Conversations",
        "xmpp android",
        False,
    ),
    ("https://sspai.com/post/12345", "我的收藏夹整理方法：用标签代替文件夹", "少数派", "收藏 中文", False),
]
ICON_COLOURS = {
    "docs.djangoproject.com": "#0c4b33",
    "www.sqlite.org": "#003b57",
    "slixmpp.readthedocs.io": "#8ca1af",
    "www.ruanyifeng.com": "#b22222",
    "conversations.im": "#3f9b4a",
    "sspai.com": "#d71a1b",
}


def icon_png(colour: str) -> bytes:
    """A small PNG as the worker stores one: a rounded square in the site's colour."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((4, 4, 60, 60), radius=12, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def collection():
    """A person's bookmarks, fetched, with the sites' icons stored."""
    user = make_user("alice")
    for url, title, site, tags, unread in COLLECTION:
        bookmark = make_bookmark(user, url, tags=tags)
        services.record_fetch(bookmark, PageMetadata(url=url, ok=True, title=title, site_name=site))
        Bookmark.objects.filter(pk=bookmark.pk).update(unread=unread)
    for host, colour in ICON_COLOURS.items():
        image = icon_png(colour)
        Favicon.objects.update_or_create(
            host=host, defaults={"image": image, "digest": hashlib.sha256(image).hexdigest(), "queued_at": None}
        )
    return user


def rows(page):
    return page.locator("li.bookmark")


def test_a_collection_shows_each_page_title_its_site_and_its_icon(page, live_server, collection):
    log_in(page, live_server, collection)
    page.set_viewport_size({"width": 1100, "height": 860})
    page.goto("/bookmarks/")
    expect(rows(page)).to_have_count(len(COLLECTION))
    expect(rows(page).first).to_contain_text("我的收藏夹整理方法：用标签代替文件夹")
    expect(rows(page).first).to_contain_text("sspai.com")
    for host in ICON_COLOURS:
        expect(page.locator(f"li.bookmark img[src*='{host}']").first).to_be_attached()
    expect(page.get_by_text("title on its way")).to_have_count(0)
    screenshot(page, "list")


def test_the_unread_ones_are_marked_in_the_list(page, live_server, collection):
    log_in(page, live_server, collection)
    page.goto("/bookmarks/?unread=1")
    expect(rows(page)).to_have_count(sum(unread for *_, unread in COLLECTION))
    expect(rows(page).filter(has_text="Slixmpp's documentation")).to_be_visible()


def test_on_a_phone_the_collection_fits_the_screen(page, live_server, collection):
    log_in(page, live_server, collection)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/bookmarks/")
    expect(rows(page)).to_have_count(len(COLLECTION))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "list-phone")


def test_in_chinese_the_collection_keeps_its_titles_and_speaks_chinese(page, live_server, collection):
    log_in(page, live_server, collection)
    page.goto("/bookmarks/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("书签")
    expect(rows(page).filter(has_text="Python 入门教程：从零开始的学习路线")).to_be_visible()
    screenshot(page, "list-zh-hans")


def test_a_two_character_chinese_word_finds_the_titles_that_hold_it(page, live_server, collection):
    log_in(page, live_server, collection)
    page.goto("/bookmarks/")
    page.get_by_role("searchbox", name="Search bookmarks").fill("入门")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Python 入门教程")
    screenshot(page, "search-chinese")

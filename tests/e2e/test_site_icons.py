"""The list in a browser (issue 20): each row's site icon comes from our own origin; Chinese titles are bold too."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookmarks.fetching.favicons import FoundIcon
from bookmarks.models import Favicon
from bookmarks.services import favicons
from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import log_in, screenshot
from tests.fixtures.icons import icon_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phone(phone):
    """The phone page of ``tests/e2e/conftest.py``; ``phone.asked`` lists every URL it requested."""
    phone.asked = []
    phone.on("request", lambda asked: phone.asked.append(asked.url))
    return phone


def keep_icon(host: str) -> None:
    now = timezone.now()
    favicons.claim(host, origin=f"https://{host}", page_icon_url="", now=now)
    favicons.record_favicon(Favicon.objects.get(host=host), FoundIcon(png=icon_file("PNG", color="#1a7f37")), now=now)


@pytest.mark.parametrize("phone", ["en", "zh-hans"], indirect=True)
def test_a_row_shows_its_sites_icon_served_by_our_own_site(phone, live_server):
    user = make_user("alice")
    make_bookmark(user, url="https://no-icon.example/page", title="A site without an icon")
    make_bookmark(user, url="https://example.com/post", title="收藏夹：中文标题 and an English one")
    keep_icon("example.com")
    log_in(phone, live_server, user)
    phone.goto("/bookmarks/")
    with_icon, without_icon = phone.locator("li.bookmark img.site-icon").all()
    expect(with_icon).to_have_attribute("src", f"/bookmarks/icons/example.com.png?v={favicons_digest()}")
    phone.wait_for_function("[...document.images].every(image => image.complete)")
    for icon in (with_icon, without_icon):
        assert icon.evaluate("image => image.naturalWidth") > 0  # loaded: the CSP (img-src 'self') allows it
        assert icon.evaluate("image => new URL(image.src).origin") == live_server.url
    assert without_icon.get_attribute("src") == "/static/img/site-icon.svg"
    assert [url for url in phone.asked if not url.startswith(live_server.url)] == []
    screenshot(phone, f"list-390-icons-{phone.evaluate('document.documentElement.lang')}")


def favicons_digest() -> str:
    return Favicon.objects.get(host="example.com").digest[: favicons.VERSION_LENGTH]


def drawn(title) -> bytes:
    return title.screenshot(animations="disabled", caret="hide")


@pytest.mark.parametrize("words", ["收藏夹网址管理", "Bookmark manager"])
def test_a_title_is_drawn_bold_in_chinese_as_in_latin_script(page, live_server, words):
    user = make_user("alice")
    make_bookmark(user, url="https://example.com/post", title=words)
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    title = page.locator("li.bookmark a.title")
    as_shown = drawn(title)
    title.evaluate("link => { link.style.fontWeight = '400' }")
    assert drawn(title) != as_shown  # what the list draws is heavier than regular text

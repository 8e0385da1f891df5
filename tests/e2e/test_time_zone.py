"""Dates in the browser's own time zone (issue 20, item 1), with a browser in UTC+8."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shanghai_page(browser, live_server):
    """A browser whose clock is in Asia/Shanghai (UTC+8, a zone name with a "/")."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai", viewport={"width": 1100, "height": 800}
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_list_shows_the_date_in_the_browsers_time_zone(shanghai_page, live_server):
    user = make_user("alice")
    # 20:00 UTC on 1 March is 04:00 on 2 March in Shanghai.
    make_bookmark(user, title="Late at night in London", added_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    log_in(shanghai_page, live_server, user)
    shanghai_page.goto("/bookmarks/")  # the first page sets the zone cookie
    shanghai_page.reload()
    added = shanghai_page.locator("li.bookmark time")
    expect(added).to_have_attribute("datetime", "2026-03-02T04:00:00+08:00")
    expect(added).to_have_text("March 2, 2026")
    screenshot(shanghai_page, "time-zone-shanghai")


def test_the_link_codes_expiry_is_in_the_browsers_time_zone(shanghai_page, live_server):
    from imgateway import linking

    user = make_user("alice")
    code = linking.start_link(user, "alice@example.net")
    log_in(shanghai_page, live_server, user)
    shanghai_page.goto("/settings/im/")
    shanghai_page.reload()
    expected = code.expires_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    expect(shanghai_page.locator("main")).to_contain_text(f"(valid until {expected})")

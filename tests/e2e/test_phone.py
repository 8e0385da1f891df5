"""A 390 px phone, in English and Chinese (issue 20, bug 5): nothing scrolls sideways, the list comes first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import PHONE, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("phone", ["en", "zh-hans"], indirect=True)
def test_settings_do_not_scroll_sideways_on_a_phone(phone, live_server):
    user = make_user("alice")
    log_in(phone, live_server, user)
    phone.goto("/settings/")
    expect(phone.locator("#feeds")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.locator("#feeds").scroll_into_view_if_needed()
    screenshot(phone, f"settings-390-{phone.evaluate('document.documentElement.lang')}")


@pytest.mark.parametrize("phone", ["en", "zh-hans"], indirect=True)
def test_the_bulk_bar_is_one_short_row_until_something_is_ticked(phone, live_server):
    user = make_user("alice")
    for number in range(3):
        make_bookmark(user, title=f"Reading number {number}")
    log_in(phone, live_server, user)
    phone.goto("/bookmarks/")
    bar = phone.locator("#bulk")
    assert bar.bounding_box()["height"] <= 48
    expect(phone.locator("#bulk-action")).to_be_hidden()
    screenshot(phone, f"list-390-nothing-ticked-{phone.evaluate('document.documentElement.lang')}")
    phone.locator("li.bookmark input.select").first.check()
    expect(phone.locator("#bulk-action")).to_be_visible()
    expect(phone.locator("#bulk button[type=submit]")).to_be_visible()
    screenshot(phone, f"list-390-one-ticked-{phone.evaluate('document.documentElement.lang')}")

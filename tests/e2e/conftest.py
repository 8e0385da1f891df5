"""Browser fixtures: headless Debian Chromium driven by Playwright, against live_server.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``
(Debian package ``chromium``, in the Makefile's system-packages). Chromium only
talks to the live server on loopback: no proxy, no background networking.
Screenshots for docs/: ``FAVSITE_SCREENSHOTS=docs make test-sqlite PYTEST_ARGS=tests/e2e``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FAVSITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
    "--no-proxy-server",
]
SCREENSHOTS = os.environ.get("FAVSITE_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module.

    Playwright's sync API keeps an asyncio loop running in this thread while the
    browser is open, and Django refuses ORM calls under a running loop. The
    tests (and the database flush after each) are plain sync code, so the guard
    is lifted while the browser is open, and the browser never outlives its
    module: later, non-browser tests run with the guard back in place.
    """
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (English, UTC, a laptop-sized window) on the live server."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="UTC", viewport={"width": 1100, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, request):
    """A phone-sized page in the language of the test's parameter (``indirect`` ``phone``)."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", timezone_id="UTC", viewport=PHONE)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": request.param, "url": live_server.url}])
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page, name: str) -> None:
    """Save a screenshot to $FAVSITE_SCREENSHOTS/<name>.png when asked (for the README)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def sign_up(page, username: str = "alice", password: str = "a-long-passphrase-42") -> None:
    page.goto("/accounts/signup/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/bookmarks/add/")


def add_bookmark(page, url: str, title: str = "", tags: str = "") -> None:
    page.goto("/bookmarks/add/")
    page.get_by_label("URL").fill(url)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Tags").fill(tags)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/bookmarks/")


def log_in(page, live_server, user) -> None:
    """Log ``user`` in by handing the browser a session cookie."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "domain": host, "path": "/"}])

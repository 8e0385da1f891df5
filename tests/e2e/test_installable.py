"""Chromium's own verdict on the manifest: installable (so it can be a share target), no service worker needed.

Its own module: it drives a persistent (not incognito) Chromium profile, which needs its own Playwright
instance, and the module-scoped ``browser`` fixture of other modules must not be open meanwhile.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)


def test_chromium_finds_the_site_installable_without_a_service_worker(live_server, tmp_path, monkeypatch):
    """Chromium's own installability check, in a normal (not incognito) profile as on a phone."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = context.new_page()
            page.goto(live_server.url + "/")
            session = context.new_cdp_session(page)
            assert session.send("Page.getAppManifest")["errors"] == []
            assert session.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        finally:
            context.close()

"""What the pages show as a person uses them (issue 20): import progress, badges, private and unread."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bookmarks.models import ImportJob
from tests.conftest import make_user
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_that_finishes_while_the_page_is_open_shows_plain_numbers(page, live_server):
    user = make_user("alice")
    job = ImportJob.objects.create(owner=user, file_name="b.html", state=ImportJob.State.RUNNING, total=6, done=2)
    log_in(page, live_server, user)
    page.goto(f"/bookmarks/import/{job.pk}/")
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE, done=6, created=5, updated=1, skipped=0)
    result = page.locator("#import-result")
    expect(result).to_be_visible()
    expect(result).to_have_text("5 new, 1 already saved (updated), 0 skipped.")
    screenshot(page, "import-finished")


def test_a_tag_arriving_with_a_live_bookmark_appears_in_the_sidebar(page, live_server):
    from bookmarks import services
    from tests.conftest import make_bookmark

    user = make_user("alice")
    make_bookmark(user, title="Already here", tags="old")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    expect(page.locator("aside.tag-cloud li a")).to_have_text(["#old"])
    services.save_url(user, "https://example.com/from-chat", title="Sent from my phone", tags="aardvark", source="im")
    expect(page.locator("aside.tag-cloud li a")).to_have_text(["#aardvark", "#old"])
    screenshot(page, "live-tags")


def test_the_sidebar_appears_when_the_first_tag_arrives(page, live_server):
    from bookmarks import services

    user = make_user("alice")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    services.save_url(user, "https://example.com/first", title="First one", tags="first")
    expect(page.locator("aside.tag-cloud")).to_be_visible()
    expect(page.locator("aside.tag-cloud li a")).to_have_text(["#first"])


def test_the_api_docs_page_draws_the_api_in_a_browser(page):
    page.goto("/api/")
    page.get_by_role("link", name="http://", exact=False).filter(has_text="/api/docs/").click()
    expect(page.get_by_role("heading", name="favsite API", exact=False).first).to_be_visible()
    screenshot(page, "api-docs")

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

"""Counts in the right plural form, in both languages (issue 20, item 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import make_bookmark, make_user
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def confirm_text_of_deleting(page, ticked: int) -> str:
    """What the browser asks before deleting ``ticked`` bookmarks (the dialog is dismissed)."""
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    boxes = page.locator("li.bookmark input.select")
    for index in range(ticked):
        boxes.nth(index).check()
    page.locator("#bulk-action").select_option("delete")
    page.locator("#bulk button[type=submit]").click()
    expect(boxes.first).to_be_visible()  # still on the list: nothing was deleted
    return asked[0]


@pytest.mark.parametrize(
    ("language", "ticked", "question"),
    [
        ("en", 1, "Delete the 1 selected bookmark?"),
        ("en", 2, "Delete the 2 selected bookmarks?"),
        ("zh-hans", 1, "删除选中的 1 个书签？"),
    ],
)
def test_the_bulk_delete_question_counts_in_the_pages_language(page, live_server, language, ticked, question):
    user = make_user("alice")
    for number in range(3):
        make_bookmark(user, title=f"Reading {number}")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    assert confirm_text_of_deleting(page, ticked) == question


def test_notes_appended_by_saving_again_sit_close_together(page, live_server):
    from bookmarks import services

    user = make_user("alice")
    services.save_url(user, "https://example.com/twice", title="Saved twice", note="first thought")
    services.save_url(user, "https://example.com/twice", note="second thought")
    log_in(page, live_server, user)
    page.goto("/bookmarks/")
    note = page.locator("li.bookmark .note")
    expect(note).to_contain_text("second thought")
    height = note.evaluate("note => note.getBoundingClientRect().height")
    line_height = note.evaluate("note => parseFloat(getComputedStyle(note).lineHeight)")
    # Two notes, two lines: the second starts on the next line, no empty line between (three lines' height).
    assert height < line_height * 2.5

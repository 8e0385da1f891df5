"""Why a fetch failed, in the reader's language (issue 20, item 9).

The fetcher records English reasons; they are translated where they are
shown. The first test reads the fetcher's source for every reason it can
write, so a new one without a translation fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation

from bookmarks.fetching import reasons
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

FETCHER = Path(reasons.__file__).parent / "metadata"
# Calls whose first argument is a reason the row can end up with.
RAISERS = {"FetchError", "Blocked", "Timeout", "ConnectionFailed", "fail"}
SAMPLE = "404"  # stands in for each variable part: digits fit every shape


def written_reasons() -> list[str]:
    """Each reason the fetcher writes (from its source), variable parts filled with SAMPLE."""
    found = []
    for path in sorted(FETCHER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            text = node.args[0]
            if name not in RAISERS:
                continue
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                found.append(text.value)
            elif isinstance(text, ast.JoinedStr):
                found.append("".join(part.value if isinstance(part, ast.Constant) else SAMPLE for part in text.values))
    return found


def test_the_fetcher_writes_the_reasons_this_test_knows_of():
    assert len(written_reasons()) >= 20
    assert "no title found in the page" in written_reasons()


@pytest.mark.parametrize("reason", [*written_reasons(), "gave up after 3 attempts"])
def test_every_reason_the_fetcher_writes_reads_in_chinese(reason):
    with translation.override("zh-hans"):
        shown = reasons.describe(reason)
    assert shown != reason


@pytest.mark.parametrize("reason", [*written_reasons(), "gave up after 3 attempts"])
def test_every_reason_reads_as_recorded_in_english(reason):
    with translation.override("en"):
        assert reasons.describe(reason) == reason


def test_variable_parts_are_kept():
    with translation.override("zh-hans"):
        assert "127.0.0.1" in reasons.describe("blocked: 127.0.0.1 is not a public address")


def test_a_reason_of_no_known_shape_is_shown_as_recorded():
    with translation.override("zh-hans"):
        assert reasons.describe("something an old version wrote") == "something an old version wrote"


@pytest.mark.django_db
def test_the_chinese_list_gives_the_reason_in_chinese(alice_client, user):
    make_bookmark(user, "https://example.com/gone", status=Bookmark.Status.FAILED, fetch_error="HTTP 404")
    alice_client.cookies["django_language"] = "zh-hans"
    page = alice_client.get("/bookmarks/").content.decode()
    with translation.override("zh-hans"):
        assert reasons.describe("HTTP 404") in page


@pytest.mark.django_db
def test_the_chinese_edit_form_gives_the_reason_in_chinese(alice_client, user):
    bookmark = make_bookmark(
        user, "https://example.com/t", status=Bookmark.Status.FAILED, fetch_error="no title found in the page"
    )
    alice_client.cookies["django_language"] = "zh-hans"
    page = alice_client.get(f"/bookmarks/{bookmark.pk}/edit/").content.decode()
    assert "no title found in the page" not in page
    with translation.override("zh-hans"):
        assert reasons.describe("no title found in the page") in page

"""The management commands that take ``--user USERNAME`` stop with a clear message for a name nobody has."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("check_links", []),
        ("fetch_favicons", []),
        ("keep_page_texts", []),
        ("export_bookmarks", []),
        ("import_bookmarks", ["bookmarks.html"]),
    ],
)
def test_an_unknown_user_stops_the_command_and_says_who(command, arguments):
    make_bookmark(make_user("alice"))
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command(command, *arguments, "--user", "nobody")
    assert Bookmark.objects.count() == 1

"""Tags in one order everywhere: by name, ignoring case (issue 20, bug 6)."""

import pytest

from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def test_the_tags_page_lists_tags_by_name_like_the_sidebar(alice_client, user):
    make_bookmark(user, tags="zebra")
    make_bookmark(user, tags="Apple")
    make_bookmark(user, tags="mango")
    page = alice_client.get("/bookmarks/tags/").content.decode()
    positions = [page.index(f"#{name}</a>") for name in ("Apple", "mango", "zebra")]
    assert positions == sorted(positions)


def test_the_live_answer_carries_the_sidebar_when_something_changed(alice_client, user):
    from django.utils import timezone

    since = timezone.now().isoformat()
    make_bookmark(user, tags="fresh")
    answer = alice_client.get("/bookmarks/live/", {"since": since}).json()
    assert "#fresh" in answer["tags_html"]


def test_the_live_answer_leaves_the_sidebar_alone_when_nothing_changed(alice_client, user):
    from django.utils import timezone

    make_bookmark(user, tags="old")
    answer = alice_client.get("/bookmarks/live/", {"since": timezone.now().isoformat()}).json()
    assert answer["items"] == [] and "tags_html" not in answer

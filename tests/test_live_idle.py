"""An idle live poll costs no bookmark or tag query (issue 20, "live updates that cost nothing")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookmarks import services
from bookmarks.services import changes
from favsite.redis import redis_client
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db

BOOKMARK_TABLES = ("bookmarks_bookmark", "bookmarks_tag")


def poll(client, since: str) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/bookmarks/live/", {"since": since, "q": "", "tag": ""})
    assert answer.status_code == 200
    return answer.json(), [query["sql"] for query in queries]


def test_a_poll_with_nothing_new_runs_no_bookmark_or_tag_query(alice_client, user):
    make_bookmark(user, title="Old news")
    # The page's cursor once the last change is older than the overlap the live view allows.
    answer, sql = poll(alice_client, timezone.now().isoformat())
    assert answer["items"] == []
    assert not [query for query in sql if any(table in query for table in BOOKMARK_TABLES)], sql


def test_a_search_poll_with_nothing_new_runs_no_query_either(alice_client, user):
    make_bookmark(user, title="Old news")
    since = (timezone.now() + timedelta(seconds=1)).isoformat()
    with CaptureQueriesContext(connection) as queries:
        alice_client.get("/bookmarks/live/", {"since": since, "q": "news", "tag": "python"})
    assert not [query for query in queries if "bookmarks_" in query["sql"]]


def test_a_bookmark_saved_after_an_idle_poll_arrives_with_the_next(alice_client, user):
    first, _sql = poll(alice_client, timezone.now().isoformat())
    idle, _sql = poll(alice_client, first["since"])
    services.save_url(user, "https://example.com/new", title="Just in")
    answer, _sql = poll(alice_client, idle["since"])
    assert [item["id"] for item in answer["items"]] == [user.bookmarks.get().pk]


def test_without_a_marker_the_poll_asks_the_database(alice_client, user):
    make_bookmark(user, title="Saved while Redis was away")
    redis_client().delete(changes.marker_key(user.pk))
    answer, sql = poll(alice_client, (timezone.now() - timedelta(seconds=30)).isoformat())
    assert len(answer["items"]) == 1
    assert any("bookmarks_bookmark" in query for query in sql)


def test_another_users_change_leaves_this_users_poll_idle(alice_client, user, other_user):
    make_bookmark(user, title="Alice's, saved before the page was opened")  # her marker: that save
    first, _sql = poll(alice_client, timezone.now().isoformat())
    make_bookmark(other_user, title="Not alice's")
    answer, sql = poll(alice_client, first["since"])
    assert answer["items"] == [] and not [query for query in sql if "bookmarks_bookmark" in query]

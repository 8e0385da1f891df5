"""bookmarks.insert_sql: new links go in together, a link the owner has is left alone, nothing is cut."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookmarks import insert_sql
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def unsaved(user, number: int, **fields) -> Bookmark:
    url = f"https://example.com/insert/{number}"
    return Bookmark(owner=user, url=url, normalized_url=url, url_hash=f"{number:064x}", **fields)


def test_new_links_go_in_with_one_statement_and_every_field_as_given(user):
    long_ago = timezone.now() - timedelta(days=400)
    given = [
        unsaved(user, 1, title="标题", note="a note", source="im", is_private=True, created_at=long_ago),
        unsaved(user, 2, status="failed", fetch_error="HTTP 404", http_status=404, fetched_at=long_ago, unread=True),
        unsaved(user, 3),
    ]
    with CaptureQueriesContext(connection) as captured:
        inserted = insert_sql.insert_new(given)
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["INSERT"]
    assert inserted == given and all(bookmark.pk for bookmark in given)
    for bookmark in given:
        stored = Bookmark.objects.get(pk=bookmark.pk)
        for field in Bookmark._meta.concrete_fields:
            if field.name != "updated_at":  # set at the insert
                assert getattr(stored, field.attname) == getattr(bookmark, field.attname), field.name


def test_a_link_the_owner_has_already_is_left_alone(user):
    kept = make_bookmark(user, title="Kept")
    again = Bookmark(owner=user, url=kept.url, normalized_url=kept.normalized_url, url_hash=kept.url_hash, title="New")
    fresh = unsaved(user, 4)
    assert insert_sql.insert_new([again, fresh]) == [fresh]
    assert again.pk is None
    assert Bookmark.objects.get(pk=kept.pk).title == "Kept"


def test_a_value_too_long_for_its_column_is_never_stored_cut(user):
    too_long = unsaved(user, 5, site_name="s" * 201)  # the column holds 200
    try:
        with transaction.atomic():
            insert_sql.insert_new([too_long, unsaved(user, 6)])
    except DataError:
        return  # PostgreSQL refuses it
    assert Bookmark.objects.get(pk=too_long.pk).site_name == "s" * 201  # SQLite keeps any length

"""Marking bookmarks read and "read later" from the list (issue 20): one row, or the selected ones."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookmarks import services
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def _unread(bookmark: Bookmark) -> bool:
    return Bookmark.objects.get(pk=bookmark.pk).unread


def test_mark_read_clears_unread_and_goes_back_to_the_list(alice_client, user):
    bookmark = make_bookmark(user, title="To read", unread=True)
    response = alice_client.post(
        f"/bookmarks/{bookmark.pk}/unread/", {"unread": "0", "next": "/bookmarks/?unread=1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/bookmarks/?unread=1"
    assert _unread(bookmark) is False
    assert "Marked “To read” read." in response.content.decode()


def test_read_later_marks_a_read_bookmark_unread(alice_client, user):
    bookmark = make_bookmark(user, title="Later")
    alice_client.post(f"/bookmarks/{bookmark.pk}/unread/", {"unread": "1"})
    assert _unread(bookmark) is True


def test_marking_asked_for_json_answers_with_the_changed_row(alice_client, user):
    bookmark = make_bookmark(user, title="To read", unread=True)
    form = {"unread": "0", "next": "/bookmarks/"}
    response = alice_client.post(f"/bookmarks/{bookmark.pk}/unread/", form, headers={"accept": "application/json"})
    data = response.json()
    assert data["id"] == bookmark.pk
    assert f'id="b{bookmark.pk}"' in data["html"]
    assert "badge unread" not in data["html"]
    assert "Read later" in data["html"]


def test_marking_another_users_bookmark_is_not_found(alice_client, other_user):
    theirs = make_bookmark(other_user, unread=True)
    assert alice_client.post(f"/bookmarks/{theirs.pk}/unread/", {"unread": "0"}).status_code == 404
    assert _unread(theirs) is True


def test_marking_read_is_refused_without_the_csrf_token(user):
    bookmark = make_bookmark(user, unread=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/bookmarks/{bookmark.pk}/unread/", {"unread": "0"}).status_code == 403
    assert _unread(bookmark) is True


def test_marking_read_by_a_link_changes_nothing(alice_client, user):
    bookmark = make_bookmark(user, unread=True)
    assert alice_client.get(f"/bookmarks/{bookmark.pk}/unread/?unread=0").status_code == 405
    assert _unread(bookmark) is True


def test_a_value_other_than_0_or_1_is_refused_with_a_message(alice_client, user):
    bookmark = make_bookmark(user, unread=True)
    response = alice_client.post(f"/bookmarks/{bookmark.pk}/unread/", {"unread": "maybe"}, follow=True)
    assert "Mark it read (0) or unread (1)." in response.content.decode()
    assert _unread(bookmark) is True


def test_marked_bookmark_comes_to_the_live_poll(alice_client, user):
    bookmark = make_bookmark(user, unread=True)
    Bookmark.objects.filter(pk=bookmark.pk).update(updated_at=timezone.now() - timedelta(days=1))
    since = timezone.now() - timedelta(seconds=1)
    services.mark_unread(user, [bookmark.pk], unread=False)
    data = alice_client.get("/bookmarks/live/", {"since": since.isoformat()}).json()
    assert [item["id"] for item in data["items"]] == [bookmark.pk]


def test_an_unread_row_offers_mark_read_and_a_read_one_read_later(alice_client, user):
    unread = make_bookmark(user, unread=True)
    read = make_bookmark(user)
    page = alice_client.get("/bookmarks/").content.decode()
    row = {pk: page[page.index(f'id="b{pk}"') :].split("</li>", 1)[0] for pk in (unread.pk, read.pk)}
    assert "Mark read" in row[unread.pk] and "Read later" not in row[unread.pk]
    assert "Read later" in row[read.pk] and "Mark read" not in row[read.pk]


def test_bulk_mark_read_marks_the_selected_bookmarks(alice_client, user, other_user):
    one, two = make_bookmark(user, unread=True), make_bookmark(user, unread=True)
    theirs = make_bookmark(other_user, unread=True)
    response = alice_client.post(
        "/bookmarks/bulk/", {"action": "mark_read", "ids": [one.pk, two.pk, theirs.pk]}, follow=True
    )
    assert "Marked 2 bookmarks read." in response.content.decode()
    assert [_unread(one), _unread(two), _unread(theirs)] == [False, False, True]


def test_bulk_mark_unread_marks_the_selected_bookmarks(alice_client, user):
    one = make_bookmark(user)
    alice_client.post("/bookmarks/bulk/", {"action": "mark_unread", "ids": [one.pk]})
    assert _unread(one) is True

"""The "refresh title" action: POST /bookmarks/<id>/refresh/."""

from __future__ import annotations

import pytest
from django.test import Client

from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db


def refresh_url(bookmark: Bookmark) -> str:
    return f"/bookmarks/{bookmark.pk}/refresh/"


def test_refreshing_marks_the_bookmark_pending_and_redirects_back_with_a_message(alice_client, user):
    bookmark = make_bookmark(user, status="failed", fetch_attempts=4, fetch_error="HTTP 503", page_title="Kept")
    response = alice_client.post(refresh_url(bookmark), {"next": "/bookmarks/?page=2"}, follow=False)
    assert response.status_code == 302 and response["Location"] == "/bookmarks/?page=2"
    bookmark.refresh_from_db()
    assert (bookmark.status, bookmark.fetch_attempts, bookmark.fetch_error, bookmark.page_title) == (
        "pending",
        0,
        "",
        "Kept",
    )
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Fetching the title of example.com again."]


def test_refreshing_someone_elses_bookmark_is_not_found(alice_client, other_user):
    bookmark = make_bookmark(other_user, status="failed")
    assert alice_client.post(refresh_url(bookmark)).status_code == 404
    bookmark.refresh_from_db()
    assert bookmark.status == "failed"


def test_refreshing_needs_a_post(alice_client, user):
    assert alice_client.get(refresh_url(make_bookmark(user))).status_code == 405


def test_refreshing_needs_a_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(refresh_url(make_bookmark(user, status="ok"))).status_code == 403


def test_refreshing_redirects_anonymous_visitors_to_log_in(client, user):
    response = client.post(refresh_url(make_bookmark(user)))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_offers_a_refresh_button_for_each_bookmark(alice_client, user):
    bookmark = make_bookmark(user)
    assert f'action="{refresh_url(bookmark)}"' in alice_client.get("/bookmarks/").content.decode()


def test_the_edit_page_offers_a_refresh_button(alice_client, user):
    bookmark = make_bookmark(user)
    assert f'action="{refresh_url(bookmark)}"' in alice_client.get(f"/bookmarks/{bookmark.pk}/edit/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_refreshing_fetches_the_new_title_through_the_worker(celery_worker, page_server, client):
    owner = make_user()
    client.force_login(owner)
    bookmark = make_bookmark(owner, url=page_server.route("/", "<title>First</title>"))
    wait_for(lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.page_title == "First")
    page_server.route("/", "<title>Second</title>")
    client.post(refresh_url(bookmark))
    bookmark = wait_for(lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.page_title == "Second")
    assert bookmark.status == "ok"

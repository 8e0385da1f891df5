"""Sending a link again whose fetch failed fetches it again (issue 20, item 11)."""

from __future__ import annotations

import pytest

from bookmarks import services
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ended(bookmark: Bookmark) -> Bookmark:
    return wait_for(lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.status != Bookmark.Status.PENDING)


def test_a_link_sent_again_after_its_fetch_failed_is_fetched_again(celery_worker, page_server):
    user = make_user()
    url = page_server.route("/later", status=404)
    assert ended(make_bookmark(user, url=url)).status == Bookmark.Status.FAILED
    page_server.route("/later", "<html><head><title>Back online</title></head></html>")
    result = services.save_url(user, url)
    assert not result.created and result.refetching
    bookmark = ended(result.bookmark)
    assert (bookmark.status, bookmark.page_title, bookmark.fetch_error) == ("ok", "Back online", "")


def test_a_link_sent_again_after_a_good_fetch_is_not_fetched_again():
    user = make_user()
    bookmark = make_bookmark(user, status=Bookmark.Status.OK, page_title="Fine")
    result = services.save_url(user, bookmark.url)
    assert not result.refetching
    assert Bookmark.objects.get(pk=bookmark.pk).status == Bookmark.Status.OK


def test_the_add_form_says_a_failed_link_is_fetched_again(client):
    user = make_user()
    bookmark = make_bookmark(user, status=Bookmark.Status.FAILED, fetch_error="HTTP 404")
    client.force_login(user)
    page = client.post("/bookmarks/add/", {"url": bookmark.url, "title": "", "tags": "", "note": ""}, follow=True)
    assert "fetching its title again" in page.content.decode()
    assert Bookmark.objects.get(pk=bookmark.pk).status == Bookmark.Status.PENDING


def test_the_bot_says_a_failed_link_is_fetched_again():
    from imgateway.saving import already_saved_line

    user = make_user()
    bookmark = make_bookmark(user, status=Bookmark.Status.FAILED, fetch_error="HTTP 404")
    result = services.save_url(user, bookmark.url, source=Bookmark.Source.IM)
    assert "Fetching its title again." in already_saved_line(result.bookmark, result.first_saved_at, result.refetching)


def test_a_refused_local_page_says_how_to_allow_local_pages_while_trying_favsite(client, settings):
    settings.DEBUG = True
    user = make_user()
    make_bookmark(
        user,
        "http://127.0.0.1:8001/",
        status=Bookmark.Status.FAILED,
        fetch_error="blocked: 127.0.0.1 is not a public address",
    )
    client.force_login(user)
    assert "FETCH_ALLOW_NETWORKS=127.0.0.0/8" in client.get("/bookmarks/").content.decode()


def test_a_production_site_keeps_its_settings_to_itself(client, settings):
    settings.DEBUG = False
    user = make_user()
    make_bookmark(
        user, "http://10.0.0.1/", status=Bookmark.Status.FAILED, fetch_error="blocked: 10.0.0.1 is not a public address"
    )
    client.force_login(user)
    assert "FETCH_ALLOW_NETWORKS" not in client.get("/bookmarks/").content.decode()

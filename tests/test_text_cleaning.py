"""Control and disguising characters never reach a stored title, note or tag, whichever way they come in."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse

from bookmarks import services
from bookmarks.interchange import netscape
from bookmarks.models import AccessToken, Bookmark, Tag
from bookmarks.tokens import token_for
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db

CONTROL = "a\u0001b"
BIDI = "invoice\u202egnp.exe"


def tag_names(user) -> set[str]:
    return set(Tag.objects.filter(owner=user).values_list("name", flat=True))


def test_a_control_character_is_dropped_from_a_tag_saved_through_the_service(user):
    services.save_url(user, "https://example.com/a", tags=[CONTROL])
    assert tag_names(user) == {"ab"}


def test_a_control_character_is_dropped_from_a_tag_sent_to_the_rest_api(user):
    api = Client(HTTP_AUTHORIZATION=f"Token {token_for(user, AccessToken.Kind.API)}")
    api.post("/api/bookmarks/", {"url": "https://example.com/a", "tags": [CONTROL]}, "application/json")
    assert tag_names(user) == {"ab"}


def test_a_control_character_is_dropped_from_a_tag_sent_to_pinboard_posts_add(client, user):
    auth = f"{user.username}:{token_for(user, AccessToken.Kind.API)}"
    client.get("/api/v1/posts/add", {"auth_token": auth, "url": "https://example.com/a", "tags": CONTROL})
    assert tag_names(user) == {"ab"}


def test_a_control_character_is_dropped_from_a_tag_typed_in_the_edit_form(alice_client, user):
    bookmark = make_bookmark(user, "https://example.com/a")
    alice_client.post(
        reverse("bookmarks:edit", args=[bookmark.pk]),
        {"url": bookmark.url, "title": "", "tags": CONTROL, "note": ""},
    )
    assert tag_names(user) == {"ab"}


def test_a_control_character_is_dropped_from_an_imported_tag(user):
    html = f'<DL><DT><A HREF="https://example.com/a" TAGS="{CONTROL}">A</A></DL>'
    services.import_bookmarks(user, netscape.parse(html))
    assert tag_names(user) == {"ab"}


def test_the_feed_and_the_pinboard_xml_stay_well_formed_with_any_tag(client, user):
    services.save_url(user, "https://example.com/a", tags=[CONTROL, "ok"])
    feed = client.get(reverse("feed_rss", args=[token_for(user, AccessToken.Kind.FEED)]))
    assert feed.status_code == 200
    ElementTree.fromstring(feed.content)  # noqa: S314 (our own server's reply)
    auth = f"{user.username}:{token_for(user, AccessToken.Kind.API)}"
    ElementTree.fromstring(client.get("/api/v1/posts/all", {"auth_token": auth}).content)  # noqa: S314


def test_bidirectional_overrides_are_dropped_from_typed_and_imported_titles(user):
    services.save_url(user, "https://example.com/typed", title=BIDI)
    html = f'<DL><DT><A HREF="https://example.com/imported">{BIDI}</A></DL>'
    services.import_bookmarks(user, netscape.parse(html))
    assert set(Bookmark.objects.filter(owner=user).values_list("title", flat=True)) == {"invoicegnp.exe"}

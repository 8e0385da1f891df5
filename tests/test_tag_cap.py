"""A bookmark holds at most BOOKMARK_MAX_TAGS tags, whichever way its tags come (issue 21, 3.3):
the web form and the APIs refuse more with a message; imports and chat keep the first ones and say so."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse

from bookmarks import services
from bookmarks.interchange.files import read_bookmark_file
from bookmarks.models import AccessToken, Bookmark
from bookmarks.tokens import token_for
from imgateway.linking import link_verified
from imgateway.models import ChatSave
from tests.conftest import make_bookmark
from tests.test_imgateway import say

FIVE = ["t1", "t2", "t3", "t4", "t5"]


@pytest.fixture(autouse=True)
def _three_tags_at_most(settings):
    settings.BOOKMARK_MAX_TAGS = 3


def names(bookmark: Bookmark) -> list[str]:
    return sorted(bookmark.tags.values_list("name", flat=True))


@pytest.mark.django_db
def test_the_add_form_refuses_more_tags_than_a_bookmark_holds(alice_client):
    response = alice_client.post(reverse("bookmarks:add"), {"url": "https://example.com/", "tags": " ".join(FIVE)})
    assert "A bookmark holds at most 3 tags; 5 were given." in response.content.decode()
    assert not Bookmark.objects.exists()


@pytest.mark.django_db
def test_the_rest_api_refuses_more_tags_than_a_bookmark_holds(user):
    api = Client(HTTP_AUTHORIZATION=f"Token {token_for(user, AccessToken.Kind.API)}")
    response = api.post(
        "/api/bookmarks/", {"url": "https://example.com/", "tags": FIVE}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"tags": ["A bookmark holds at most 3 tags; 5 were given."]}
    assert not Bookmark.objects.exists()


@pytest.mark.django_db
def test_pinboard_posts_add_refuses_more_tags_than_a_bookmark_holds(client, user):
    auth = f"{user.username}:{token_for(user, AccessToken.Kind.API)}"
    response = client.get(
        "/api/v1/posts/add", {"auth_token": auth, "url": "https://example.com/", "tags": " ".join(FIVE)}
    )
    code = ElementTree.fromstring(response.content).attrib["code"]  # noqa: S314 (our own server's reply)
    assert code == "too many tags (a bookmark holds at most 3)"
    assert not Bookmark.objects.exists()


@pytest.mark.django_db
def test_an_import_keeps_the_first_tags_and_says_so(user):
    data = f'<DT><A HREF="https://example.com/" TAGS="{",".join(FIVE)}">Page</A>'.encode()
    result = services.import_bookmarks(user, read_bookmark_file(data))
    assert names(Bookmark.objects.get()) == ["t1", "t2", "t3"]
    assert result.warnings == [("https://example.com/", "kept the first 3 of its 5 tags")]


@pytest.mark.django_db
def test_importing_a_known_link_adds_tags_only_up_to_the_cap(user):
    make_bookmark(user, "https://example.com/", tags=["a", "b"])
    data = b'<DT><A HREF="https://example.com/" TAGS="c,d">Page</A>'
    services.import_bookmarks(user, read_bookmark_file(data))
    assert names(Bookmark.objects.get()) == ["a", "b", "c"]


@pytest.mark.django_db
def test_a_chat_message_keeps_the_first_tags_and_says_so(user):
    link_verified(user, "alice@example.org")
    say("https://example.com/ " + " ".join(f"#{name}" for name in FIVE))
    assert names(Bookmark.objects.get()) == ["t1", "t2", "t3"]
    assert "Kept the first 3 tags of 5: a bookmark holds at most 3." in ChatSave.objects.get().lines


@pytest.mark.django_db
def test_saving_a_link_again_adds_tags_only_up_to_the_cap(user):
    services.save_url(user, "https://example.com/", tags=["a", "b"])
    services.save_url(user, "https://example.com/", tags=["c", "d"])
    assert names(Bookmark.objects.get()) == ["a", "b", "c"]


@pytest.mark.django_db
def test_tagging_selected_bookmarks_stops_at_the_cap(user):
    full = make_bookmark(user, "https://example.com/full", tags=["a", "b", "c"])
    roomy = make_bookmark(user, "https://example.com/roomy", tags=["a"])
    services.tag_bookmarks(user, [full.pk, roomy.pk], "x y z")
    assert (names(full), names(roomy)) == (["a", "b", "c"], ["a", "x", "y"])

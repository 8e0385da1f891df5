"""Edits (XEP-0308) and retractions (XEP-0424) of a chat message act on what it saved (no socket)."""

from __future__ import annotations

import pytest

from bookmarks.models import Bookmark
from imgateway.linking import link_verified
from imgateway.messages import Incoming, handle_message
from imgateway.models import ChatSave
from tests.conftest import make_bookmark, make_user

pytestmark = pytest.mark.django_db

ALICE = "alice@example.org/phone"


def send(body: str, message_id: str, *, sender: str = ALICE, origin_id: str = ""):
    return handle_message(Incoming(sender, body, [], message_id, origin_id=origin_id or message_id))


def correct(body: str, replaces: str, *, sender: str = ALICE):
    return handle_message(Incoming(sender, body, [], f"fix-{replaces}", replaces=replaces))


def retract(message_id: str, *, sender: str = ALICE):
    fallback = "This person attempted to retract a previous message, but your client does not support it."
    return handle_message(Incoming(sender, fallback, [], f"retract-{message_id}", retracts=message_id))


@pytest.fixture
def alice(user):
    link_verified(user, "alice@example.org")
    return user


def urls(user) -> set[str]:
    return set(Bookmark.objects.filter(owner=user).values_list("url", flat=True))


def tags_of(user, url: str) -> set[str]:
    return set(Bookmark.objects.get(owner=user, url=url).tags.values_list("name", flat=True))


def test_a_correction_that_drops_a_link_deletes_the_bookmark_the_message_created(alice):
    send("https://example.com/a https://example.com/b", "m1")
    reply = correct("https://example.com/a", "m1")
    assert urls(alice) == {"https://example.com/a"}
    assert reply.text.startswith("Removed: ") and "https://example.com/b" in reply.text


def test_a_correction_with_a_new_link_saves_it(alice):
    send("https://example.com/a #py", "m1")
    reply = correct("https://example.com/a https://example.com/c #py", "m1")
    assert urls(alice) == {"https://example.com/a", "https://example.com/c"}
    assert tags_of(alice, "https://example.com/c") == {"py"}
    assert reply.text == "Added: https://example.com/c"


def test_a_correction_of_the_url_itself_swaps_the_bookmark(alice):
    send("https://exmaple.com/typo", "m1")
    reply = correct("https://example.com/right", "m1")
    assert urls(alice) == {"https://example.com/right"}
    assert "Removed: " in reply.text and "Added: https://example.com/right" in reply.text


def test_a_correction_changes_the_tags_of_what_the_message_saved(alice):
    send("https://example.com/a #pyhton #web", "m1")
    reply = correct("https://example.com/a #python #web", "m1")
    assert tags_of(alice, "https://example.com/a") == {"python", "web"}
    assert reply.text == "Tags now: #python #web"


def test_a_correction_does_not_take_off_a_tag_a_bookmark_saved_before_had(alice):
    make_bookmark(alice, "https://example.com/old", tags=["web"])
    send("https://example.com/old #web", "m1")
    correct("https://example.com/old", "m1")
    assert tags_of(alice, "https://example.com/old") == {"web"}


def test_a_correction_replaces_the_note_and_keeps_the_rest_of_it(alice):
    bookmark = make_bookmark(alice, "https://example.com/a", note="typed on the web")
    send("https://example.com/a read this on sunday", "m1")
    reply = correct("https://example.com/a read this on saturday", "m1")
    bookmark.refresh_from_db()
    assert bookmark.note == "typed on the web\n\nread this on saturday"
    assert reply.text == "Note now: read this on saturday"


def test_a_correction_that_drops_a_link_saved_before_keeps_its_bookmark(alice):
    make_bookmark(alice, "https://example.com/old")
    send("https://example.com/old https://example.com/new", "m1")
    reply = correct("https://example.com/new", "m1")
    assert urls(alice) == {"https://example.com/old", "https://example.com/new"}
    assert reply.text.startswith("Kept (saved before that message): ")


def test_a_correction_that_changes_nothing_says_so(alice):
    send("https://example.com/a #x", "m1")
    assert "Nothing to change" in correct("https://example.com/a  #x", "m1").text


def test_a_correction_names_the_message_by_its_id_after_another_correction(alice):
    send("https://example.com/a", "m1")
    correct("https://example.com/a #one", "m1")
    correct("https://example.com/a #two", "m1")
    assert tags_of(alice, "https://example.com/a") == {"two"}


def test_a_correction_of_a_message_that_saved_nothing_is_a_new_message(alice):
    send("hello", "m1")
    reply = correct("https://example.com/a", "m1")
    assert reply.awaiting_confirmation
    assert urls(alice) == {"https://example.com/a"}


def test_a_correction_of_another_persons_message_changes_nothing_of_theirs(alice):
    send("https://example.com/a", "m1")
    mallory = make_user("mallory")
    link_verified(mallory, "mallory@example.org")
    correct("https://example.com/evil", "m1", sender="mallory@example.org/x")
    assert urls(alice) == {"https://example.com/a"}
    assert urls(mallory) == {"https://example.com/evil"}  # their correction counts as a message of theirs


def test_a_retraction_deletes_what_the_message_created(alice):
    send("https://example.com/a https://example.com/b", "m1")
    reply = retract("m1")
    assert urls(alice) == set()
    assert reply.text.count("Removed: ") == 2
    assert not ChatSave.objects.exists()  # so no confirmation follows


def test_a_retraction_keeps_a_bookmark_the_message_only_saved_again(alice):
    make_bookmark(alice, "https://example.com/old")
    send("https://example.com/old https://example.com/new", "m1")
    reply = retract("m1")
    assert urls(alice) == {"https://example.com/old"}
    assert "Kept (saved before that message): " in reply.text


def test_a_retraction_names_the_message_by_its_origin_id(alice):
    send("https://example.com/a", "client-id", origin_id="origin-id")
    retract("origin-id")
    assert urls(alice) == set()


def test_a_retraction_of_a_message_that_saved_nothing_gets_no_answer(alice):
    send("recent", "m1")
    assert retract("m1").text is None


def test_a_retractions_fallback_text_is_never_read_as_a_message(alice):
    reply = retract("unknown")
    assert reply.text is None
    assert urls(alice) == set()


def test_a_retraction_by_another_person_deletes_nothing(alice):
    send("https://example.com/a", "m1")
    mallory = make_user("mallory")
    link_verified(mallory, "mallory@example.org")
    retract("m1", sender="mallory@example.org/x")
    assert urls(alice) == {"https://example.com/a"}


def test_a_retraction_from_a_stranger_gets_no_answer(alice):
    assert retract("m1", sender="stranger@example.net/x").text is None

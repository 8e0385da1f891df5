""" "Read later" from chat (issue 20): ``!later`` (``!稍后``) in a message, and the menu's checkbox."""

import pytest
from django.utils import translation

from bookmarks.models import Bookmark
from imgateway import commands, menus
from imgateway.linking import link_verified
from imgateway.messages import Incoming, handle_message
from imgateway.parsing import Save, parse_message
from tests.conftest import make_bookmark, make_user

JID = "alice@example.org"


@pytest.mark.parametrize("word", ["!later", "!LATER", "!稍后", "！稍后", "！later"])
def test_the_later_word_asks_to_read_the_links_later(word):
    parsed = parse_message(f"https://example.com/a {word} #python worth it")
    assert isinstance(parsed, Save)
    assert parsed.later is True
    assert (parsed.tags, parsed.note) == (["python"], "worth it")


def test_a_message_without_the_word_leaves_read_state_alone():
    parsed = parse_message("https://example.com/a later, when I have time")
    assert parsed.later is False
    assert parsed.note == "later, when I have time"


def test_a_longer_word_that_starts_with_later_is_note_text():
    parsed = parse_message("https://example.com/a !laterally")
    assert parsed.later is False
    assert parsed.note == "!laterally"


def test_help_explains_the_later_word_in_english_and_chinese():
    assert "!later" in commands.help_text() and "!稍后" in commands.help_text()
    with translation.override("zh-hans"):
        chinese = commands.help_text()
    assert "!later" in chinese and "!稍后" in chinese


@pytest.fixture
def linked(db):
    user = make_user("alice")
    link_verified(user, JID)
    return user


def test_the_add_menu_offers_read_later(linked):
    page = menus.step(JID, "add", menus.START, {})
    assert "later" in [field.var for field in page.fields]


def test_the_add_menu_saves_a_link_to_read_later_when_ticked(linked):
    menus.step(JID, "add", "save", {"url": "https://example.com/later", "later": True})
    assert Bookmark.objects.get(owner=linked).unread is True


def test_the_add_menu_leaves_a_known_link_unread_when_not_ticked(linked):
    make_bookmark(linked, "https://example.com/known", unread=True)
    menus.step(JID, "add", "save", {"url": "https://example.com/known"})
    assert Bookmark.objects.get(owner=linked).unread is True


def test_a_correction_that_adds_the_later_word_marks_the_saved_links_unread(linked):
    sender = f"{JID}/phone"
    handle_message(Incoming(sender, "https://example.com/a", [], "m1", origin_id="m1"))
    reply = handle_message(Incoming(sender, "https://example.com/a !later", [], "fix-m1", replaces="m1"))
    assert Bookmark.objects.get(owner=linked).unread is True
    assert reply.text == "Marked to read later."


def test_the_reply_says_the_links_were_marked_to_read_later(linked):
    make_bookmark(linked, "https://example.com/known")
    reply = handle_message(Incoming(f"{JID}/phone", "https://example.com/known !later", [], "m2", origin_id="m2"))
    assert reply.text.startswith("Already saved on ")
    assert reply.text.endswith("\nMarked to read later.")


def test_nothing_is_marked_when_no_link_could_be_saved(linked):
    reply = handle_message(Incoming(f"{JID}/phone", "ftp://x.example/f !later", [], "m3"))
    assert "Marked to read later." not in reply.text

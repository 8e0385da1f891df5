"""The steps behind the bot's menus (``imgateway.menus``), called as the database thread calls them: no socket."""

from __future__ import annotations

import pytest

from bookmarks.models import Bookmark
from imgateway import confirmations, menus
from imgateway.linking import link_verified
from tests.conftest import make_bookmark, make_user

JID = "dora@example.org"


@pytest.fixture
def linked(db):
    user = make_user("dora")
    link_verified(user, JID)
    return user


def test_a_stranger_is_offered_only_how_to_link(db):
    assert menus.menu("stranger@example.org") == [("link", "How to link")]


def test_a_linked_address_is_offered_every_command(linked):
    assert [node for node, _name in menus.menu(JID)] == ["recent", "find", "tags", "add", "delete", "account"]


def test_a_stranger_may_not_run_a_command_of_the_linked(db):
    with pytest.raises(menus.Forbidden):
        menus.step("stranger@example.org", "recent", menus.START, {})


def test_an_unknown_command_is_refused(linked):
    with pytest.raises(menus.Forbidden):
        menus.step(JID, "drop-tables", menus.START, {})


def test_an_address_unlinked_in_the_middle_of_a_command_cannot_finish_it(linked):
    menus.step(JID, "account", menus.START, {})
    menus.step(JID, "account", "choose", {"action": "unlink"})
    linked.linked_jids.all().delete()
    with pytest.raises(menus.Forbidden):
        menus.step(JID, "account", "confirm", {"confirm": "1"})


def test_recent_refuses_a_count_that_is_not_a_number(linked):
    page = menus.step(JID, "recent", "list", {"count": "many"})
    assert (page.note_type, page.next_stage) == ("error", None)


def test_delete_with_a_bad_number_does_not_undo_either(linked):
    make_bookmark(linked)
    menus.step(JID, "add", "save", {"url": "https://example.com/from-the-menu"})
    page = menus.step(JID, "delete", "delete", {"ids": "12x", "undo": "1"})
    assert page.note_type == "error"
    assert Bookmark.objects.filter(owner=linked).count() == 2


def test_a_link_added_from_the_menu_can_be_undone_and_waits_for_no_confirmation(linked):
    menus.step(JID, "add", "save", {"url": "https://example.com/from-the-menu", "tags": "a b"})
    bookmark = Bookmark.objects.get(owner=linked)
    assert confirmations.due([bookmark.pk]) == []
    page = menus.step(JID, "delete", "delete", {"undo": True})
    assert page.note == "Removed: example.com/from-the-menu\nhttps://example.com/from-the-menu"
    assert not Bookmark.objects.filter(owner=linked).exists()


def test_keeping_the_link_changes_nothing(linked):
    page = menus.step(JID, "account", "choose", {"action": "keep"})
    assert page.note == "Nothing changed."
    assert linked.linked_jids.filter(jid=JID).exists()


def test_a_multi_line_note_from_a_client_is_kept_whole(linked):
    menus.step(JID, "add", "save", {"url": "https://example.com/n", "note": ["first line", "second line"]})
    assert Bookmark.objects.get(owner=linked).note == "first line\nsecond line"

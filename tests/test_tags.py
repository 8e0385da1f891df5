"""Tag management and bulk actions (bookmarks.services)."""

import pytest

from bookmarks import services
from bookmarks.models import Bookmark, Tag
from tests.conftest import make_bookmark

pytestmark = pytest.mark.django_db


def tag_names(bookmark):
    return sorted(tag.name for tag in Bookmark.objects.get(pk=bookmark.pk).tags.all())


def test_renaming_a_tag_keeps_its_bookmarks(user):
    bookmark = make_bookmark(user, tags="pyhton")
    services.rename_tag(user, Tag.objects.get(owner=user, name="pyhton").pk, "python")
    assert tag_names(bookmark) == ["python"]


def test_renaming_onto_an_existing_name_merges_the_tags(user):
    first = make_bookmark(user, tags="py")
    second = make_bookmark(user, tags="Python py")
    services.rename_tag(user, Tag.objects.get(owner=user, name="py").pk, "python")
    assert tag_names(first) == tag_names(second) == ["Python"]
    assert list(Tag.objects.filter(owner=user).values_list("name", flat=True)) == ["Python"]


def test_renaming_can_change_only_the_case(user):
    bookmark = make_bookmark(user, tags="django")
    services.rename_tag(user, Tag.objects.get(owner=user).pk, "Django")
    assert tag_names(bookmark) == ["Django"]


def test_merging_moves_bookmarks_and_removes_the_sources(user):
    one = make_bookmark(user, tags="js")
    two = make_bookmark(user, tags="javascript ecmascript")
    target = Tag.objects.get(owner=user, name="javascript")
    sources = Tag.objects.filter(owner=user, name__in=["js", "ecmascript"]).values_list("pk", flat=True)
    services.merge_tags(user, sources, target.pk)
    assert tag_names(one) == tag_names(two) == ["javascript"]
    assert Tag.objects.filter(owner=user).count() == 1


def test_merging_ignores_another_users_tags(user, other_user):
    make_bookmark(user, tags="mine")
    theirs = make_bookmark(other_user, tags="theirs")
    services.merge_tags(user, [Tag.objects.get(name="theirs").pk], Tag.objects.get(name="mine").pk)
    assert tag_names(theirs) == ["theirs"]


def test_deleting_a_tag_keeps_the_bookmarks(user):
    bookmark = make_bookmark(user, tags="old keep")
    services.delete_tag(user, Tag.objects.get(owner=user, name="old").pk)
    assert tag_names(bookmark) == ["keep"]


def test_deleting_another_users_tag_does_nothing(user, other_user):
    make_bookmark(other_user, tags="theirs")
    assert services.delete_tag(user, Tag.objects.get(name="theirs").pk) == 0
    assert Tag.objects.filter(name="theirs").exists()


def test_bulk_tagging_adds_tags_to_the_selected_bookmarks(user):
    one, two, left_out = (make_bookmark(user, tags="a") for _ in range(3))
    assert services.tag_bookmarks(user, [one.pk, two.pk], "new, A") == 2
    assert tag_names(one) == tag_names(two) == ["a", "new"]
    assert tag_names(left_out) == ["a"]


def test_bulk_tagging_never_touches_another_users_bookmarks(user, other_user):
    mine = make_bookmark(user)
    theirs = make_bookmark(other_user)
    assert services.tag_bookmarks(user, [mine.pk, theirs.pk], "x") == 1
    assert tag_names(theirs) == []
    assert not Tag.objects.filter(owner=other_user).exists()


def test_bulk_untagging_removes_only_that_tag_ignoring_case(user):
    bookmark = make_bookmark(user, tags="Keep Drop")
    services.untag_bookmarks(user, [bookmark.pk], "drop")
    assert tag_names(bookmark) == ["Keep"]


def test_bulk_untagging_never_touches_another_users_bookmarks(user, other_user):
    make_bookmark(user, tags="shared")
    theirs = make_bookmark(other_user, tags="shared")
    assert services.untag_bookmarks(user, [theirs.pk], "shared") == 0
    assert tag_names(theirs) == ["shared"]


def test_bulk_delete_never_touches_another_users_bookmarks(user, other_user):
    mine = make_bookmark(user)
    theirs = make_bookmark(other_user)
    assert services.delete_bookmarks(user, [mine.pk, theirs.pk]) == 1
    assert Bookmark.objects.filter(pk=theirs.pk).exists()
    assert not Bookmark.objects.filter(pk=mine.pk).exists()

"""bookmarks.services: the one place that saves bookmarks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookmarks import services
from bookmarks.models import Bookmark, Tag
from tests.conftest import make_bookmark


def test_saving_a_new_url_creates_a_pending_bookmark(user):
    result = services.save_url(user, "https://example.com/post?utm_source=feed")

    assert result.created
    bookmark = Bookmark.objects.get(pk=result.bookmark.pk)
    assert bookmark.url == "https://example.com/post?utm_source=feed"
    assert bookmark.normalized_url == "https://example.com/post"
    assert bookmark.status == Bookmark.Status.PENDING
    assert bookmark.source == Bookmark.Source.WEB


def test_a_bookmark_without_a_title_shows_host_and_path(user):
    bookmark = services.save_url(user, "https://www.example.com/blog/post/").bookmark
    assert bookmark.display_title == "example.com/blog/post"


def test_resaving_the_same_url_updates_instead_of_duplicating(user):
    first = services.save_url(user, "https://example.com/post")
    second = services.save_url(user, "HTTPS://EXAMPLE.com:443/post/#top")

    assert not second.created
    assert second.bookmark.pk == first.bookmark.pk
    assert Bookmark.objects.filter(owner=user).count() == 1


def test_resaving_reports_when_it_was_first_saved(user):
    long_ago = timezone.now() - timedelta(days=30)
    services.save_url(user, "https://example.com/post", added_at=long_ago)
    again = services.save_url(user, "https://example.com/post")
    assert again.first_saved_at == long_ago


def test_resaving_a_url_merges_tags(user):
    services.save_url(user, "https://example.com/post", tags="python web")
    result = services.save_url(user, "https://example.com/post", tags=["Web", "reading"])

    assert sorted(tag.name for tag in result.bookmark.tags.all()) == ["python", "reading", "web"]
    assert Tag.objects.filter(owner=user).count() == 3


def test_resaving_a_url_appends_the_note(user):
    services.save_url(user, "https://example.com/post", note="first thought")
    result = services.save_url(user, "https://example.com/post", note="second thought")
    assert result.bookmark.note == "first thought\n\nsecond thought"


def test_resaving_with_the_same_note_does_not_repeat_it(user):
    services.save_url(user, "https://example.com/post", note="great read")
    result = services.save_url(user, "https://example.com/post", note="great read")
    assert result.bookmark.note == "great read"


def test_resaving_moves_the_bookmark_to_the_top(user):
    old = make_bookmark(user, "https://example.com/old", added_at=timezone.now() - timedelta(days=1))
    make_bookmark(user, "https://example.com/new")

    services.save_url(user, "https://example.com/old")

    assert Bookmark.objects.filter(owner=user).first().pk == old.pk


def test_resaving_with_a_typed_title_replaces_the_title(user):
    services.save_url(user, "https://example.com/post", title="Old name")
    result = services.save_url(user, "https://example.com/post", title="Better name")
    assert result.bookmark.title == "Better name"


def test_resaving_without_a_title_keeps_the_typed_one(user):
    services.save_url(user, "https://example.com/post", title="Kept")
    result = services.save_url(user, "https://example.com/post")
    assert result.bookmark.title == "Kept"


def test_two_users_can_save_the_same_url(user, other_user):
    services.save_url(user, "https://example.com/post")
    result = services.save_url(other_user, "https://example.com/post")
    assert result.created


def test_tags_are_unique_per_owner_ignoring_case(user, other_user):
    services.save_url(user, "https://example.com/a", tags="Python")
    services.save_url(user, "https://example.com/b", tags="python PYTHON")
    services.save_url(other_user, "https://example.com/a", tags="python")

    assert list(Tag.objects.filter(owner=user).values_list("name", flat=True)) == ["Python"]
    assert Tag.objects.filter(owner=other_user).count() == 1


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("python, web", ["python", "web"]),
        ("#python #web", ["python", "web"]),
        ("python python PYTHON", ["python"]),
        ("收藏，网址、中文", ["收藏", "网址", "中文"]),
        ("  ", []),
    ],
)
def test_parse_tags_splits_on_spaces_and_commas(raw, names):
    assert services.parse_tags(raw) == names


def test_saving_a_non_http_url_is_refused_and_saves_nothing(user):
    with pytest.raises(services.InvalidURL, match="Only http and https"):
        services.save_url(user, "ftp://example.com/file")
    assert not Bookmark.objects.exists()


def test_control_characters_are_removed_from_titles_and_notes(user):
    result = services.save_url(user, "https://example.com/", title="a\x00b\x1bc", note="line\none\x07")
    assert result.bookmark.title == "abc"
    assert result.bookmark.note == "line\none"


def test_editing_to_a_url_the_owner_already_has_is_refused(user):
    make_bookmark(user, "https://example.com/a")
    b = make_bookmark(user, "https://example.com/b")
    with pytest.raises(services.DuplicateURL):
        services.edit_bookmark(b, url="https://example.com/a/", title="", tags="", note="")


def test_editing_the_url_resets_the_fetched_metadata(user):
    bookmark = make_bookmark(user, "https://example.com/a", page_title="A page", status=Bookmark.Status.OK)
    services.edit_bookmark(bookmark, url="https://example.com/b", title="A page", tags="x", note="")
    bookmark.refresh_from_db()
    assert (bookmark.page_title, bookmark.title, bookmark.status) == ("", "A page", Bookmark.Status.PENDING)


def test_keeping_the_fetched_title_in_the_edit_form_does_not_lock_it(user):
    bookmark = make_bookmark(user, "https://example.com/a", page_title="From the page")
    services.edit_bookmark(bookmark, url=bookmark.url, title="From the page", tags="", note="")
    bookmark.refresh_from_db()
    assert bookmark.title == ""


def test_delete_bookmarks_ignores_other_users_ids(user, other_user):
    mine = make_bookmark(user)
    theirs = make_bookmark(other_user)

    assert services.delete_bookmarks(user, [mine.pk, theirs.pk]) == 1
    assert Bookmark.objects.filter(pk=theirs.pk).exists()

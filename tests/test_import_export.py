"""Netscape/Pinboard import and export: conformance files, merging, round trip, commands."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from bookmarks import services
from bookmarks.interchange import netscape
from bookmarks.interchange.exporting import bookmark_entries
from bookmarks.interchange.files import read_bookmark_file
from bookmarks.models import Bookmark
from tests.conftest import make_bookmark, make_user

# shared/ sits beside the repository (here and in CI's fresh clone).
CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "netscape"

# file -> (bookmarks imported, entries skipped). Counted by reading each file:
# Firefox's three ``place:`` queries and Shaarli's relative ``?lY47tw`` note
# link are not http(s) links, so they are skipped with a reason.
EXPECTED = {
    "linkace-import_example.html": (5, 0),
    "linkding-simple_valid_import_file.html": (3, 0),
    "linkding-simple_valid_import_file_with_one_invalid_bookmark.html": (3, 0),
    "netscape-bookmark-parser-chromium_nested.html": (18, 0),
    "netscape-bookmark-parser-delicious.html": (5, 0),
    "netscape-bookmark-parser-delicious_sanitize.html": (2, 0),
    "netscape-bookmark-parser-firefox_nested.html": (21, 3),
    "netscape-bookmark-parser-google_bookmarks_nested.html": (6, 0),
    "netscape-bookmark-parser-internet_explorer_11_nested.html": (27, 0),
    "netscape-bookmark-parser-netscape_extended.html": (1, 0),
    "netscape-bookmark-parser-netscape_multiline.html": (3, 0),
    "netscape-bookmark-parser-netscape_nested.html": (8, 0),
    "netscape-bookmark-parser-safari_folded.html": (3, 0),
    "netscape-bookmark-parser-scuttle.html": (4, 0),
    "netscape-bookmark-parser-scuttle_new_line.html": (1, 0),
    "netscape-bookmark-parser-shaarli.html": (5, 1),
    "netscape-bookmark-parser-shaarli_legacy.html": (2, 0),
    "shaarli-empty.html": (0, 0),
    "shaarli-lowercase_doctype.html": (2, 0),
    "shaarli-no_doctype.html": (2, 0),
}


def import_file(user, name: str, **options) -> services.ImportResult:
    return services.import_bookmarks(user, read_bookmark_file((CONFORMANCE / name).read_bytes()), **options)


def test_every_conformance_file_is_listed():
    assert sorted(path.name for path in CONFORMANCE.iterdir()) == sorted(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_conformance_file_imports_with_the_right_counts(name, user):
    result = import_file(user, name)
    created, skipped = EXPECTED[name]
    assert (result.created, result.updated, len(result.skipped)) == (created, 0, skipped)
    assert Bookmark.objects.filter(owner=user).count() == created


@pytest.mark.django_db
def test_non_http_links_are_skipped_with_a_reason(user):
    result = import_file(user, "netscape-bookmark-parser-firefox_nested.html")
    assert all(url.startswith("place:") for url, _reason in result.skipped)
    assert all("http" in reason for _url, reason in result.skipped)


@pytest.mark.django_db
def test_fields_private_toread_tags_and_description_are_kept(user):
    import_file(user, "netscape-bookmark-parser-delicious.html")
    private = Bookmark.objects.get(owner=user, url__contains="Testing-Your-Privates")
    assert private.is_private and not private.unread
    assert sorted(private.tags.values_list("name", flat=True)) == ["php", "private", "test"]
    firefox = Bookmark.objects.get(owner=user, url__contains="support.mozilla.org")
    assert firefox.title == "Export Firefox bookmarks to backup or transfer"
    assert firefox.note.startswith("Export your bookmarks to an HTML file")
    assert firefox.created_at == datetime.fromtimestamp(1098309600, UTC)


@pytest.mark.django_db
def test_seconds_milliseconds_and_microseconds_dates_mean_the_same_instant(user):
    import_file(user, "linkding-simple_valid_import_file.html")
    dates = set(Bookmark.objects.filter(owner=user).values_list("created_at", flat=True))
    assert dates == {datetime.fromtimestamp(1616337559, UTC)}


@pytest.mark.django_db
def test_an_unreadable_date_keeps_the_bookmark_with_a_warning(user):
    result = import_file(user, "linkding-simple_valid_import_file_with_one_invalid_bookmark.html")
    assert result.created == 3
    assert [url for url, _message in result.warnings] == ["https://example.com/1"]


@pytest.mark.django_db
def test_last_modified_becomes_updated_at(user):
    import_file(user, "netscape-bookmark-parser-firefox_nested.html")
    xkcd = Bookmark.objects.get(owner=user, url="http://xkcd.com/1332/")
    assert xkcd.updated_at == datetime.fromtimestamp(1463687035, UTC)


@pytest.mark.django_db
def test_multiline_descriptions_keep_their_lines(user):
    import_file(user, "netscape-bookmark-parser-netscape_multiline.html")
    note = Bookmark.objects.get(owner=user, url="http://multi.li.ne/3").note
    assert note == "List:\n- item1\n- item2\n\nParagraph number one.\n\nParagraph\nnumber\ntwo."


@pytest.mark.django_db
def test_markup_inside_a_description_is_text_not_a_bookmark(user):
    result = import_file(user, "netscape-bookmark-parser-netscape_extended.html")
    assert result.created == 1
    assert '<a href="http://localhost.localdomain:8083/Shaarli/?JVvqCA">' in Bookmark.objects.get(owner=user).note


@pytest.mark.django_db
def test_folders_become_tags_only_when_asked(user, other_user):
    import_file(user, "netscape-bookmark-parser-netscape_nested.html", folders_as_tags=True)
    import_file(other_user, "netscape-bookmark-parser-netscape_nested.html")
    tagged = Bookmark.objects.get(owner=user, url="http://nest.ed/3-1")
    assert sorted(tagged.tags.values_list("name", flat=True)) == ["Folder3", "Folder3-1", "tag3"]
    plain = Bookmark.objects.get(owner=other_user, url="http://nest.ed/3-1")
    assert list(plain.tags.values_list("name", flat=True)) == ["tag3"]


@pytest.mark.django_db
def test_multi_word_and_space_separated_tags_stay_whole_words(user):
    import_file(user, "netscape-bookmark-parser-netscape_nested.html")
    import_file(user, "shaarli-no_doctype.html")
    names = set(user.tags.values_list("name", flat=True))
    assert {"multi-word", "leaf-multi-word", "private", "secret", "hello", "world"} <= names


@pytest.mark.django_db
def test_duplicates_within_a_file_become_one_bookmark_with_merged_tags(user):
    text = (
        '<DL><DT><A HREF="https://example.com/a?utm_source=x" TAGS="one" ADD_DATE="100">First</A>'
        '<DT><A HREF="https://EXAMPLE.com/a/" TAGS="two" ADD_DATE="200">Second</A><DD>more</DL>'
    )
    result = services.import_bookmarks(user, netscape.parse(text))
    assert (result.created, result.updated) == (1, 0)
    bookmark = Bookmark.objects.get(owner=user)
    assert bookmark.title == "Second"
    assert sorted(bookmark.tags.values_list("name", flat=True)) == ["one", "two"]
    assert bookmark.created_at == datetime.fromtimestamp(100, UTC)
    assert bookmark.added_at == datetime.fromtimestamp(200, UTC)


@pytest.mark.django_db
def test_importing_a_url_already_saved_merges_like_resaving(user):
    make_bookmark(user, "https://example.com/a", title="Mine", tags=["old"], note="first thought")
    text = '<DT><A HREF="https://example.com/a" TAGS="new" ADD_DATE="2000000000">Theirs</A><DD>second thought'
    result = services.import_bookmarks(user, netscape.parse(text))
    assert (result.created, result.updated) == (0, 1)
    bookmark = Bookmark.objects.get(owner=user)
    assert bookmark.title == "Theirs"
    assert bookmark.note == "first thought\n\nsecond thought"
    assert sorted(bookmark.tags.values_list("name", flat=True)) == ["new", "old"]
    assert bookmark.added_at == datetime.fromtimestamp(2000000000, UTC)


@pytest.mark.django_db
def test_import_does_not_touch_another_users_bookmarks(user, other_user):
    make_bookmark(other_user, "https://example.com/1", title="Mallory's")
    import_file(user, "linkding-simple_valid_import_file.html")
    assert Bookmark.objects.get(owner=other_user).title == "Mallory's"
    assert Bookmark.objects.filter(owner=user).count() == 3


def _snapshot(user) -> list[tuple]:
    return sorted(
        (
            e.url,
            e.title,
            sorted(e.tags),
            e.note,
            int(e.created_at.timestamp()),
            int(e.added_at.timestamp()),
            int(e.modified_at.timestamp()),
            e.is_private,
            e.unread,
        )
        for e in bookmark_entries(user)
    )


@pytest.mark.django_db
def test_export_then_import_gives_back_every_field(user, other_user):
    for name in EXPECTED:
        import_file(user, name, folders_as_tags=True)
    make_bookmark(user, "https://example.com/typed", title="Typed <b>&amp;", tags=["x"], note="line1\n<DT>line2")
    services.save_url(user, "https://example.com/typed", note="again", unread=True)
    exported = "".join(netscape.write(bookmark_entries(user)))

    services.import_bookmarks(other_user, netscape.parse(exported))

    assert _snapshot(other_user) == _snapshot(user)
    assert len(_snapshot(user)) > 100


@pytest.mark.django_db
def test_pinboard_json_export_imports(user):
    posts = [
        {
            "href": "https://example.com/p",
            "description": "Title",
            "extended": "Notes",
            "meta": "x",
            "hash": "y",
            "time": "2020-01-02T03:04:05Z",
            "shared": "no",
            "toread": "yes",
            "tags": "a b",
        }
    ]
    result = services.import_bookmarks(user, read_bookmark_file(json.dumps(posts).encode()))
    assert result.created == 1
    bookmark = Bookmark.objects.get(owner=user)
    assert (bookmark.title, bookmark.note, bookmark.is_private, bookmark.unread) == ("Title", "Notes", True, True)
    assert bookmark.created_at == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sorted(bookmark.tags.values_list("name", flat=True)) == ["a", "b"]


@pytest.mark.django_db
def test_import_and_export_commands_round_trip_with_progress_on_stderr(tmp_path, user):
    make_user("bob")
    err = io.StringIO()
    call_command(
        "import_bookmarks", str(CONFORMANCE / "netscape-bookmark-parser-chromium_nested.html"), user="alice", stderr=err
    )
    assert "18/18" in err.getvalue()
    out_file = tmp_path / "out.html"
    call_command("export_bookmarks", user="alice", output=str(out_file), stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_bookmarks", str(out_file), user="bob", stdout=out, stderr=io.StringIO())
    assert "18 new" in out.getvalue()


@pytest.mark.django_db
def test_imported_bookmarks_are_found_by_search_and_later_saves_still_index(user):
    from bookmarks.search import search_bookmarks

    import_file(user, "netscape-bookmark-parser-delicious.html")
    make_bookmark(user, "https://example.com/later", title="Quokka facts")
    mine = Bookmark.objects.filter(owner=user)
    assert [b.url for b in search_bookmarks(mine, "compatibility tables")] == ["http://fontfamily.io/"]
    assert [b.url for b in search_bookmarks(mine, "quokka")] == ["https://example.com/later"]


@pytest.mark.django_db
def test_untitled_imports_wait_for_the_sweep_only_when_titles_are_wanted(user, other_user):
    text = '<DT><A HREF="https://example.com/untitled"></A><DT><A HREF="https://example.com/titled">T</A>'
    services.import_bookmarks(user, netscape.parse(text), fetch_missing_titles=True)
    services.import_bookmarks(other_user, netscape.parse(text))
    wanted = dict(Bookmark.objects.filter(owner=user).values_list("url", "status"))
    assert wanted == {"https://example.com/untitled": "pending", "https://example.com/titled": "ok"}
    assert set(Bookmark.objects.filter(owner=other_user).values_list("status", flat=True)) == {"ok"}


def _untitled_file(count: int) -> str:
    return "".join(
        f'<DT><A HREF="https://example.com/untitled/{i}" LAST_MODIFIED="1500000000"></A>\n' for i in range(count)
    )


@pytest.mark.django_db
def test_an_import_that_wants_titles_queues_no_fetch_itself(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.import_bookmarks(user, netscape.parse(_untitled_file(5)), fetch_missing_titles=True)
    assert not [callback for callback in callbacks if callback.__qualname__.startswith("queue_fetches.")]
    assert Bookmark.objects.filter(owner=user, status=Bookmark.Status.PENDING).count() == 5


@pytest.mark.django_db
def test_the_sweep_fetches_imported_untitled_bookmarks_one_batch_per_run(user):
    services.import_bookmarks(user, netscape.parse(_untitled_file(5)), fetch_missing_titles=True)
    assert [services.sweep_stale_fetches(batch=2) for _ in range(4)] == [(2, 0), (2, 0), (1, 0), (0, 0)]


@pytest.mark.django_db
def test_export_without_a_file_writes_to_standard_output(user):
    make_bookmark(user, "https://example.com/a", title="A")
    out = io.StringIO()
    call_command("export_bookmarks", user="alice", stdout=out, stderr=io.StringIO())
    assert [entry.url for entry in netscape.parse(out.getvalue())] == ["https://example.com/a"]


@pytest.mark.django_db
def test_an_imported_bookmark_is_found_by_a_word_and_by_a_two_character_chinese_term(user):
    from bookmarks.search import search_bookmarks

    text = (
        '<DT><A HREF="https://example.cn/a">我的收藏夹整理方法 Quokka</A>\n'
        '<DT><A HREF="https://example.com/b">Something else</A>\n'
    )
    services.import_bookmarks(user, netscape.parse(text))
    mine = Bookmark.objects.filter(owner=user)
    assert [b.url for b in search_bookmarks(mine, "quokka")] == ["https://example.cn/a"]
    assert [b.url for b in search_bookmarks(mine, "收藏")] == ["https://example.cn/a"]
    assert [b.url for b in search_bookmarks(mine, "整理方法")] == ["https://example.cn/a"]


@pytest.mark.django_db
def test_an_imported_title_changed_by_a_second_import_is_found_by_its_new_words(user):
    from bookmarks.search import search_bookmarks

    services.import_bookmarks(user, netscape.parse('<DT><A HREF="https://example.com/a">Wombat</A>'))
    services.import_bookmarks(user, netscape.parse('<DT><A HREF="https://example.com/a">Numbat 收藏</A>'))
    mine = Bookmark.objects.filter(owner=user)
    assert [b.title for b in search_bookmarks(mine, "numbat")] == ["Numbat 收藏"]
    assert [b.title for b in search_bookmarks(mine, "收藏")] == ["Numbat 收藏"]
    assert list(search_bookmarks(mine, "wombat")) == []


@pytest.mark.django_db
def test_tags_with_capital_accented_letters_import_and_match_ignoring_case(user):
    services.import_bookmarks(user, netscape.parse('<DT><A HREF="https://example.com/a" TAGS="École,ÉCOLE">A</A>'))
    services.import_bookmarks(user, netscape.parse('<DT><A HREF="https://example.com/b" TAGS="école">B</A>'))
    assert list(user.tags.values_list("name", flat=True)) == ["École"]
    assert Bookmark.objects.get(url="https://example.com/b").tags.get().name == "École"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_copied_row_that_clashes_raises_djangos_integrity_error_for_the_importer_to_retry(user):
    from bookmarks.services import pg_copy

    saved = make_bookmark(user, "https://example.com/a")
    clash = (saved.url, saved.normalized_url, saved.url_hash)
    template = Bookmark(owner=user, source=Bookmark.Source.IMPORT)
    with pytest.raises(IntegrityError), transaction.atomic():
        pg_copy.insert_new(template, ["url", "normalized_url", "url_hash"], [clash])

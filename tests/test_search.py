"""Search semantics (bookmarks.search), the same table on SQLite and PostgreSQL."""

import pytest
from django.db import connection

from bookmarks import search, services
from bookmarks.models import Bookmark
from bookmarks.search import parse_query, search_bookmarks
from tests.conftest import make_bookmark
from tests.fixtures.search import postgres_plan, titles

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(user):
    """A small collection with English, Chinese, URLs, notes and tags."""
    make_bookmark(user, "https://docs.djangoproject.com/en/5.2/", title="Django documentation", tags="python web")
    make_bookmark(user, "https://example.com/flask", title="Flask Quickstart", note="micro framework", tags="python")
    make_bookmark(user, "https://news.example.cn/a", title="我的收藏夹整理方法", tags="中文")
    make_bookmark(user, "https://example.cn/url", title="如何保存网址", note="收藏 技巧")
    make_bookmark(user, "https://example.org/rust", title="The Rust Book", description="Learn Rust, the exact phrase")
    return user


SEMANTICS = [
    ("django", ["Django documentation"]),
    ("DJANGO", ["Django documentation"]),
    ("dJaNgO DOCUMENTATION", ["Django documentation"]),
    ("quickstart FRAMEWORK", ["Flask Quickstart"]),
    ("python", []),
    ("收藏", ["如何保存网址", "我的收藏夹整理方法"]),
    ("网址", ["如何保存网址"]),
    ("收藏夹", ["我的收藏夹整理方法"]),
    ("收藏夹整理", ["我的收藏夹整理方法"]),
    ("djangoproject.com/en", ["Django documentation"]),
    ("news.example.cn", ["我的收藏夹整理方法"]),
    ('"exact phrase"', ["The Rust Book"]),
    ('"phrase exact"', []),
    ("“收藏夹整理”", ["我的收藏夹整理方法"]),
    ("#python", ["Django documentation", "Flask Quickstart"]),
    ("#PYTHON flask", ["Flask Quickstart"]),
    ("#python -flask", ["Django documentation"]),
    ("-收藏", ["Django documentation", "Flask Quickstart", "The Rust Book"]),
    ("example -#python -rust", ["如何保存网址", "我的收藏夹整理方法"]),
    ('-"micro framework" #python', ["Django documentation"]),
    ("qu", ["Flask Quickstart"]),
    ("nothing-like-this", []),
    ("#nosuchtag", []),
    ("", ["Django documentation", "Flask Quickstart", "The Rust Book", "如何保存网址", "我的收藏夹整理方法"]),
    ("example -rust -flask", ["如何保存网址", "我的收藏夹整理方法"]),
    ("example 收藏 -如何保存", ["我的收藏夹整理方法"]),
    ("-rust", ["Django documentation", "Flask Quickstart", "如何保存网址", "我的收藏夹整理方法"]),
]


@pytest.mark.parametrize(("query", "expected"), SEMANTICS)
def test_search_semantics(library, query, expected):
    assert titles(library, query) == expected


@pytest.mark.parametrize(("query", "expected"), SEMANTICS)
def test_search_semantics_hold_when_sqlite_walks_the_newest_first_index(library, query, expected, monkeypatch):
    # Past FTS_FEW matches SQLite probes the match list along the owner's index (search._fts_filter).
    monkeypatch.setattr(search, "FTS_FEW", 0)
    assert titles(library, query) == expected


def test_like_wildcards_in_a_term_are_literal(user):
    make_bookmark(user, title="100% pure")
    make_bookmark(user, title="1000 pure")
    assert titles(user, "100%") == ["100% pure"]
    assert titles(user, "0_p") == []


def test_a_quote_inside_a_term_does_not_break_the_query(user):
    make_bookmark(user, title='say "hello" there')
    assert titles(user, 'y"hel') == []
    assert titles(user, '"hello"') == ['say "hello" there']


def test_search_finds_a_title_fetched_after_saving(user):
    bookmark = make_bookmark(user, "https://example.com/later")
    Bookmark.objects.filter(pk=bookmark.pk).update(page_title="Arrived later from the page")
    assert titles(user, "arrived later") == ["Arrived later from the page"]


def test_search_forgets_an_edited_away_title(user):
    bookmark = make_bookmark(user, title="Old words here")
    services.edit_bookmark(bookmark, url=bookmark.url, title="New words", tags="", note="")
    assert titles(user, "old") == []
    assert titles(user, "new words") == ["New words"]


def test_search_forgets_a_deleted_bookmark(user):
    bookmark = make_bookmark(user, title="Gone soon")
    services.delete_bookmarks(user, [bookmark.id])
    assert titles(user, "gone") == []


def test_search_never_returns_another_users_bookmarks(user, other_user):
    make_bookmark(other_user, title="Secret django notes")
    assert titles(user, "django") == []


def test_parse_query_reads_each_operator():
    terms = parse_query('web "two words" #Tag -skip -#old -"bad phrase"')
    assert [(t.text, t.tag, t.exclude) for t in terms] == [
        ("web", False, False),
        ("two words", False, False),
        ("Tag", True, False),
        ("skip", False, True),
        ("old", True, True),
        ("bad phrase", False, True),
    ]


def test_terms_of_three_or_more_characters_use_the_trigram_index(user):
    if connection.vendor == "postgresql":
        assert "bookmark_search_trgm" in postgres_plan("收藏夹")
    else:
        assert "bookmarks_bookmark_fts" in search_bookmarks(Bookmark.objects.all(), "收藏夹").explain()


def test_two_character_terms_use_the_bigram_index_on_postgresql(user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite scans two-character terms")
    assert "bookmark_search_bigrams" in postgres_plan("收藏")


def narrowed(user, tags: list[str], query: str = "") -> list[str]:
    """The display titles of ``user``'s bookmarks with ``tags`` that match ``query`` (the pages' filter), sorted."""
    found = search.with_tags_matching(Bookmark.objects.filter(owner=user), user, tags, query)
    return sorted(bookmark.display_title for bookmark in found)


def test_tag_filters_keep_bookmarks_with_every_tag_named_in_any_case(library):
    assert narrowed(library, ["PYTHON", "Web"]) == ["Django documentation"]


def test_a_tag_filter_naming_a_tag_the_owner_does_not_have_finds_nothing(library, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x")
    make_bookmark(stranger, "https://example.com/theirs", tags="rust")
    assert narrowed(library, ["rust"]) == []


def test_a_tag_filter_and_a_query_narrow_together(library):
    assert narrowed(library, ["python"], "micro") == ["Flask Quickstart"]


def _sqlite_insert_trigger_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s", ["bookmarks_bookmark_fts_ai"]
        )
        return cursor.fetchone()[0] == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS table only")
def test_bulk_indexing_refuses_to_lift_the_trigger_outside_a_transaction(transactional_db):
    from bookmarks.search import sqlite_index

    with pytest.raises(RuntimeError, match="transaction"), sqlite_index.bulk_indexing():
        pass
    assert _sqlite_insert_trigger_exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS table only")
def test_bulk_indexing_that_fails_leaves_the_trigger_and_the_index_as_they_were(user):
    from django.db import transaction

    from bookmarks.search import sqlite_index

    with pytest.raises(ZeroDivisionError), transaction.atomic(), sqlite_index.bulk_indexing():
        assert not _sqlite_insert_trigger_exists()
        1 / 0  # noqa: B018
    assert _sqlite_insert_trigger_exists()
    make_bookmark(user, "https://example.com/after", title="Quokka")
    assert titles(user, "quokka") == ["Quokka"]

"""Two-character terms: the same substring semantics whichever path answers them.

On PostgreSQL a two-character term with a non-ASCII character is answered from
the bigram index (migration 0008) and rechecked per field; an all-ASCII one is
scanned. SQLite scans both. The results must not depend on the path.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bookmarks.models import Bookmark
from bookmarks.search import _scan_condition
from tests.conftest import make_bookmark
from tests.fixtures.search import postgres_plan, titles

pytestmark = pytest.mark.django_db

TEXTS = [
    "Flask Quickstart",
    "B站视频合集 2024",
    "L'ÉTÉ indien, été 1969",
    "release-v2收藏夹",
    "如何保存网址",
    "Ünïcödé ÅSCII mix ß",
    "数据库 performance tuning",
]


def scanned_titles(user, term):
    return sorted(b.display_title for b in Bookmark.objects.filter(owner=user).filter(_scan_condition(term)))


@pytest.fixture
def mixed(user):
    for text in TEXTS:
        make_bookmark(user, title=text)
    return user


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("qu", ["Flask Quickstart"]),
        ("QU", ["Flask Quickstart"]),
        ("sK", ["Flask Quickstart"]),
        ("20", ["B站视频合集 2024"]),
        ("b站", ["B站视频合集 2024"]),
        ("站视", ["B站视频合集 2024"]),
        ("ét", ["L'ÉTÉ indien, été 1969"]),
        ("ÉT", ["L'ÉTÉ indien, été 1969"]),
        ("2收", ["release-v2收藏夹"]),
        ("藏夹", ["release-v2收藏夹"]),
        ("zz", []),
        ("藏网", []),
    ],
)
def test_two_character_terms_are_case_insensitive_substrings(mixed, query, expected):
    assert titles(mixed, query) == expected


def test_every_two_character_piece_finds_what_a_plain_scan_finds(mixed):
    pieces = {text[i : i + 2] for text in TEXTS for i in range(len(text) - 1)}
    # Pieces the query syntax reads otherwise (a space, a quote, a leading - or #) are left out.
    pieces = {piece for piece in pieces if " " not in piece and '"' not in piece and piece[0] not in "-#"}
    for piece in sorted(pieces):
        for term in (piece, piece.upper(), piece.lower()):
            assert titles(mixed, term) == scanned_titles(mixed, term), term


def test_two_character_ascii_terms_are_scanned_not_read_from_the_bigram_index(user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite scans every two-character term")
    assert "bookmark_search_bigrams" not in postgres_plan("qu")


def test_two_character_terms_with_latin_and_chinese_use_the_bigram_index(user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite scans every two-character term")
    assert "bookmark_search_bigrams" in postgres_plan("B站")


def test_the_bigram_function_keeps_upper_cased_pieces_with_a_non_ascii_character(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT favsite_nonascii_bigrams(%s)", ["a long-ascii-run收藏夹 été b站"])
        (pieces,) = cursor.fetchone()
    assert set(pieces) == {"N收", "收藏", "藏夹", "夹 ", "TÉ", "ÉT", " É", "É ", "B站"}


def test_a_long_chinese_note_is_found_by_its_two_character_words(user):
    make_bookmark(user, title="Long note", note="前言" + "收藏夹整理方法" * 1400 + "结尾")
    assert titles(user, "结尾") == ["Long note"]
    assert titles(user, "言收") == ["Long note"]


@pytest.mark.django_db(transaction=True)
def test_migrating_a_populated_database_to_the_non_ascii_bigram_index_keeps_search_working(user):
    make_bookmark(user, title="我的收藏夹", note="B站 notes")
    make_bookmark(user, title="Flask Quickstart")
    executor = MigrationExecutor(connection)
    executor.migrate([("bookmarks", "0007_search_bigrams")])
    try:
        make_bookmark(user, title="旧索引时的网址收藏")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert titles(user, "收藏") == ["我的收藏夹", "旧索引时的网址收藏"]
    assert titles(user, "b站") == ["我的收藏夹"]
    assert titles(user, "qu") == ["Flask Quickstart"]

"""Search inside the kept page text (issue 19, part 2), the same table on SQLite and PostgreSQL."""

import pytest
from django.db import connection

from bookmarks import search
from bookmarks.models import PageText
from tests.conftest import make_bookmark
from tests.fixtures.articles import CHINESE_BODY_ONLY, ENGLISH_BODY_ONLY
from tests.fixtures.search import postgres_plan, titles

pytestmark = pytest.mark.django_db

JOINTS = "Joints that hold"
WISDOM = "传统木工的智慧"


def keep_text(bookmark, text: str) -> PageText:
    return PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text=text)


@pytest.fixture
def library(user):
    """Two bookmarks with kept text (English, Chinese), one without."""
    joints = make_bookmark(user, "https://example.com/joints", title=JOINTS, tags="wood")
    keep_text(joints, f"The {ENGLISH_BODY_ONLY} joint has pins and tails.\nA mortise and tenon joint is older.")
    wisdom = make_bookmark(user, "https://example.cn/mu", title=WISDOM)
    keep_text(wisdom, f"这种连接方式叫做{CHINESE_BODY_ONLY}。\n故宫的很多大殿经历了数百年的风雨。")
    make_bookmark(user, "https://example.org/tenon-saws", title="Saws compared", note="for tenon cuts")
    return user


SEMANTICS = [
    (ENGLISH_BODY_ONLY, [JOINTS]),
    (ENGLISH_BODY_ONLY.upper(), [JOINTS]),
    (f"{ENGLISH_BODY_ONLY} in:title", []),
    (f"IN:TITLE {ENGLISH_BODY_ONLY}", []),
    ("joints in:title", [JOINTS]),
    ("tenon", [JOINTS, "Saws compared"]),
    ("tenon in:title", ["Saws compared"]),
    ('"pins and tails"', [JOINTS]),
    ('"tails and pins"', []),
    ("joints mortise", [JOINTS]),  # one word in the title, one in the text
    (f"-{ENGLISH_BODY_ONLY}", ["Saws compared", WISDOM]),
    (f"tenon -{ENGLISH_BODY_ONLY}", ["Saws compared"]),
    (f"#wood {ENGLISH_BODY_ONLY}", [JOINTS]),
    (f"#wood -{ENGLISH_BODY_ONLY}", []),
    (CHINESE_BODY_ONLY, [WISDOM]),  # two characters: only in the text
    (f"{CHINESE_BODY_ONLY} in:title", []),
    ("木工 故宫", [WISDOM]),
    ("故宫的很多大殿", [WISDOM]),
    (f"-{CHINESE_BODY_ONLY}", [JOINTS, "Saws compared"]),
    ("in:title", [JOINTS, "Saws compared", WISDOM]),
]


@pytest.mark.parametrize(("query", "expected"), SEMANTICS)
def test_search_finds_words_in_the_kept_text(library, query, expected):
    assert titles(library, query) == sorted(expected)


@pytest.mark.parametrize(("query", "expected"), SEMANTICS)
def test_text_search_holds_when_sqlite_walks_the_newest_first_index(library, query, expected, monkeypatch):
    monkeypatch.setattr(search, "FTS_FEW", 0)
    assert titles(library, query) == sorted(expected)


@pytest.mark.parametrize(("query", "expected"), SEMANTICS)
def test_text_search_holds_when_postgresql_checks_row_by_row(library, query, expected, monkeypatch):
    monkeypatch.setattr(search, "WALK_SHARE", 0)
    assert titles(library, query) == sorted(expected)


def test_in_title_is_a_qualifier_not_a_word():
    terms = search.parse_query('in:title "in:title" -in:TITLE')
    assert [(term.text, term.qualifier, term.exclude) for term in terms] == [
        ("in:title", True, False),
        ("in:title", False, False),
        ("in:title", True, True),
    ]
    assert search.searches_text("word") and not search.searches_text("word in:title")
    assert not search.searches_text("#tag")


def test_the_text_index_follows_changes_and_deletions(user):
    bookmark = make_bookmark(user, title="Changing")
    text = keep_text(bookmark, "first version with marquetry")
    assert titles(user, "marquetry") == ["Changing"]
    PageText.objects.filter(pk=text.pk).update(text="second version with veneer")
    assert titles(user, "marquetry") == [] and titles(user, "veneer") == ["Changing"]
    PageText.objects.filter(pk=text.pk).delete()
    assert titles(user, "veneer") == []


def test_another_users_text_is_never_found(library, other_user):
    assert titles(other_user, ENGLISH_BODY_ONLY) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_postgresql_answers_text_terms_from_its_indexes(library):
    assert "pagetext_search_trgm" in postgres_plan(ENGLISH_BODY_ONLY)
    assert "pagetext_search_bigrams" in postgres_plan(CHINESE_BODY_ONLY)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_sqlite_answers_text_terms_from_the_fts_table(library):
    from bookmarks.models import Bookmark

    assert "bookmarks_pagetext_fts" in search.search_bookmarks(Bookmark.objects.all(), ENGLISH_BODY_ONLY).explain()


def list_page(client, query: str) -> str:
    return client.get("/bookmarks/", {"q": query}).content.decode()


def test_results_found_in_the_text_say_so_with_the_word_marked(alice_client, library):
    html = list_page(alice_client, ENGLISH_BODY_ONLY)
    assert "in the page’s text:" in html
    assert f"The <mark>{ENGLISH_BODY_ONLY}</mark> joint has pins and tails." in html


def test_a_two_character_chinese_word_is_marked_in_its_excerpt(alice_client, library):
    assert f"这种连接方式叫做<mark>{CHINESE_BODY_ONLY}</mark>。" in list_page(alice_client, CHINESE_BODY_ONLY)


def test_every_searched_word_is_marked_and_a_long_text_is_cut_around_the_match(alice_client, user):
    bookmark = make_bookmark(user, title="Long read")
    keep_text(bookmark, "Opening words. " * 30 + "Here the Dovetail meets the TENON joint. " + "Closing words. " * 30)
    html = list_page(alice_client, "dovetail tenon")
    assert "Here the <mark>Dovetail</mark> meets the <mark>TENON</mark> joint." in html
    excerpt = html.split('<p class="excerpt">', 1)[1].split("</p>", 1)[0]
    assert "…" in excerpt and len(excerpt) < 400


@pytest.mark.parametrize(("tail", "cut"), [("", False), ("x", True)])
def test_the_excerpt_ends_with_an_ellipsis_only_when_the_text_goes_on(alice_client, user, tail, cut):
    from bookmarks.search.excerpts import LENGTH

    bookmark = make_bookmark(user, title="Short read")
    keep_text(bookmark, ("dovetail " + "a" * LENGTH)[:LENGTH] + tail)
    excerpt = list_page(alice_client, "dovetail").split('<p class="excerpt">', 1)[1].split("</p>", 1)[0]
    assert excerpt.endswith("…") is cut


def test_a_match_in_the_title_shows_no_excerpt(alice_client, library):
    html = list_page(alice_client, "joints")
    assert JOINTS in html and 'class="excerpt"' not in html


def test_the_excerpt_escapes_markup_in_the_text(alice_client, user):
    bookmark = make_bookmark(user, title="Escaping")
    keep_text(bookmark, 'A comment: how to write <script>alert(1)</script> and <b onclick="x()">bold</b>.')
    html = list_page(alice_client, "comment")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<b onclick" not in html
    assert "<mark>comment</mark>" in html


def test_in_title_on_the_list_page_finds_no_text_only_match(alice_client, library):
    html = list_page(alice_client, f"{ENGLISH_BODY_ONLY} in:title")
    assert JOINTS not in html


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's pairs table")
def test_sqlite_answers_two_character_text_terms_from_the_pairs_table(library):
    from bookmarks.models import Bookmark

    plan = search.search_bookmarks(Bookmark.objects.all(), CHINESE_BODY_ONLY).explain()
    assert "bookmarks_pagetext_pairs_fts" in plan


def test_pairs_follow_the_text_and_leave_out_ascii_and_punctuation():
    from bookmarks.bigrams import indexable_pair, text_pairs

    assert text_pairs("B站的abc。收藏") == "B站 站的 的A 收藏"
    assert indexable_pair("收藏") and indexable_pair("b站")
    assert not indexable_pair("qu") and not indexable_pair("。收") and not indexable_pair("收藏夹")

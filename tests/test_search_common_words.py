"""A word in most of the kept texts (issue 19, part 2): the same results, found without collecting every match."""

import pytest
from django.db import connection

from bookmarks import search
from bookmarks.models import PageText
from tests.conftest import make_bookmark
from tests.fixtures.search import postgres_plan, titles

pytestmark = pytest.mark.django_db

ARTICLES = [f"Article {number}" for number in range(7)]


@pytest.fixture
def everywhere(user):
    """Seven bookmarks saved in order, "Article 0" to "Article 6", whose kept texts all say "everywhere";
    the text of "Article 3" also says "seldom". No title holds either word."""
    for number, title in enumerate(ARTICLES):
        bookmark = make_bookmark(user, f"https://example.com/{number}", title=title)
        extra = " and seldom" if number == 3 else ""
        PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text=f"Read everywhere{extra}.")
    return user


@pytest.fixture
def small_pages(monkeypatch):
    """Searches count at most 3 matches, pages hold 2; SQLite takes FTS matches as many from 2 on."""
    from bookmarks.web.views import pages

    monkeypatch.setattr(pages, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(search, "FTS_FEW", 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_postgresql_checks_a_word_in_most_texts_row_by_row_not_through_the_trigram_index(everywhere):
    plan = postgres_plan("everywhere")
    assert "SubPlan" in plan and "pagetext_search_trgm" not in plan


def test_a_word_in_every_text_finds_them_all(everywhere):
    assert titles(everywhere, "everywhere") == ARTICLES


def test_a_word_in_every_text_less_a_negated_word_leaves_out_its_text(everywhere):
    assert titles(everywhere, "everywhere -seldom") == [title for title in ARTICLES if title != "Article 3"]


def test_a_word_in_every_text_negated_leaves_nothing(everywhere):
    assert titles(everywhere, "seldom -everywhere") == []


def test_the_first_page_of_a_word_in_every_text_is_the_newest_and_says_more_than_the_cap(
    alice_client, everywhere, small_pages
):
    page = alice_client.get("/bookmarks/?q=everywhere").content.decode()
    assert "More than 3 bookmarks found." in page
    assert "Article 6<" in page and "Article 5<" in page and "Article 4<" not in page


def test_a_later_page_of_a_word_in_every_text_goes_on_in_order(alice_client, everywhere, small_pages):
    page = alice_client.get("/bookmarks/?q=everywhere&page=3").content.decode()
    assert "Article 2<" in page and "Article 1<" in page and "Article 3<" not in page

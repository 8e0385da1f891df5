"""The reader view (issue 19, part 3): the kept text as a clean page, never the page's markup."""

import re

import pytest

from bookmarks.fetching.text import extract_text
from bookmarks.models import PageText
from tests.conftest import make_bookmark
from tests.fixtures.articles import ENGLISH_BODY_ONLY, ENGLISH_MARKUP_TEXT, chinese_article, english_article

pytestmark = pytest.mark.django_db


def reader_article(client, bookmark) -> str:
    response = client.get(f"/bookmarks/{bookmark.pk}/read/")
    assert response.status_code == 200
    return re.search(r'<article class="reader".*?</article>', response.content.decode(), re.S).group(0)


def keep_extracted(bookmark, html: str) -> PageText:
    text, language = extract_text(html)
    return PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text=text, language=language)


def test_the_reader_shows_the_article_in_paragraphs_without_the_pages_markup(alice_client, user):
    bookmark = make_bookmark(user, "https://blog.example.com/joints", title="Joints")
    keep_extracted(bookmark, english_article())
    article = reader_article(alice_client, bookmark)
    assert "<h1>Joints</h1>" in article and 'lang="en"' in article
    assert f"<p>The {ENGLISH_BODY_ONLY} joint is the best known." in article
    assert article.count("<p>") >= 6
    for forbidden in ("<script", "<style", "<iframe", "<img", "onclick", "onerror", "onmouseover", "track("):
        assert forbidden not in article
    escaped = ENGLISH_MARKUP_TEXT.replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in article
    assert 'href="https://blog.example.com/joints"' in article


def test_the_reader_shows_chinese_text_in_chinese(alice_client, user):
    bookmark = make_bookmark(user, "https://example.cn/mu", title="传统木工的智慧")
    keep_extracted(bookmark, chinese_article())
    article = reader_article(alice_client, bookmark)
    assert 'lang="zh-CN"' in article and "<p>故宫的很多大殿经历了数百年的风雨" in article


def test_the_reader_says_when_a_link_is_not_a_web_page(alice_client, user):
    bookmark = make_bookmark(user, "https://example.com/paper.pdf")
    PageText.objects.create(bookmark=bookmark, state=PageText.State.NOT_TEXT, content_type="application/pdf")
    assert "only its title is kept" in reader_article(alice_client, bookmark)


def test_the_reader_says_when_no_text_was_kept(alice_client, user):
    assert "No text has been kept" in reader_article(alice_client, make_bookmark(user))


def test_no_one_reads_another_persons_bookmark(alice_client, other_user):
    bookmark = make_bookmark(other_user)
    PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text="private words")
    assert alice_client.get(f"/bookmarks/{bookmark.pk}/read/").status_code == 404


def test_the_list_links_to_the_reader_when_text_was_kept(alice_client, user):
    with_text, without = make_bookmark(user, title="With text"), make_bookmark(user, title="Without")
    PageText.objects.create(bookmark=with_text, state=PageText.State.KEPT, text="words")
    pdf = make_bookmark(user, "https://example.com/a.pdf", title="A PDF")
    PageText.objects.create(bookmark=pdf, state=PageText.State.NOT_TEXT)
    html = alice_client.get("/bookmarks/").content.decode()
    assert f'href="/bookmarks/{with_text.pk}/read/"' in html
    assert f'href="/bookmarks/{without.pk}/read/"' not in html and f'href="/bookmarks/{pdf.pk}/read/"' not in html
    assert "no text kept: not a web page" in html


def test_the_feed_links_to_the_reader_when_text_was_kept(client, user, settings):
    from tests.test_web_interchange import feed_url, xml

    with_text = make_bookmark(user, "https://example.com/kept", title="Kept")
    PageText.objects.create(bookmark=with_text, state=PageText.State.KEPT, text="words")
    make_bookmark(user, "https://example.com/plain", title="Plain")
    items = xml(client.get(feed_url(user)).content).find("channel").findall("item")
    descriptions = {item.findtext("link"): item.findtext("description") or "" for item in items}
    assert f'href="{settings.SITE_URL}/bookmarks/{with_text.pk}/read/"' in descriptions["https://example.com/kept"]
    assert "/read/" not in descriptions["https://example.com/plain"]

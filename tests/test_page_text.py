"""Keeping a saved page's readable text (issue 19, part 1): fetched, extracted, stored in its own table."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from bookmarks import services
from bookmarks.fetching.text import count_words, fetch_page_text
from bookmarks.models import Bookmark, PageText, Preferences
from tests.conftest import make_bookmark, make_user
from tests.fixtures.articles import (
    CHINESE_BODY_ONLY,
    ENGLISH_BODY_ONLY,
    chinese_article,
    chinese_gbk_article,
    english_article,
)
from tests.fixtures.celery import wait_for

CHROME = ("Related posts", "Copyright", "Newsletter", "Post comment", "track(", "dataLayer", "相关文章", "版权所有")


def test_the_main_text_of_an_english_article_is_kept_without_its_chrome(page_server):
    found = fetch_page_text(page_server.route("/post", english_article()))
    assert found.kind == "text" and found.http_status == 200 and not found.error
    assert ENGLISH_BODY_ONLY in found.text and "Woodworkers have joined boards" in found.text
    assert not [word for word in CHROME if word in found.text]
    assert found.language == "en" and found.word_count > 100


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (chinese_article().encode("utf-8"), "text/html; charset=utf-8"),
        (chinese_gbk_article(), "text/html"),  # the charset only in the page's <meta>
        (chinese_gbk_article(), "text/html; charset=gbk"),
    ],
    ids=["utf-8", "gbk-meta", "gbk-header"],
)
def test_the_text_of_a_chinese_article_is_kept_in_any_of_its_encodings(page_server, body, content_type):
    found = fetch_page_text(page_server.route("/zh", body, headers={"Content-Type": content_type}))
    assert found.kind == "text"
    assert f"这种连接方式叫做{CHINESE_BODY_ONLY}" in found.text
    assert not [word for word in CHROME if word in found.text]
    assert found.language == "zh-CN"
    # One paragraph per line, as the page had them.
    assert len([line for line in found.text.splitlines() if line.endswith("。")]) >= 5


def test_a_plain_text_page_is_kept_as_it_is(page_server):
    url = page_server.route("/notes.txt", "First line.\n\nSecond paragraph.\n", headers={"Content-Type": "text/plain"})
    found = fetch_page_text(url)
    assert (found.kind, found.text, found.word_count) == ("text", "First line.\nSecond paragraph.", 4)


def test_a_pdf_is_not_read(page_server):
    url = page_server.route("/paper.pdf", b"%PDF-1.4 " + b"x" * 5000, headers={"Content-Type": "application/pdf"})
    found = fetch_page_text(url)
    assert (found.kind, found.text, found.content_type) == ("not_text", "", "application/pdf")


def test_the_body_is_read_only_up_to_the_body_cap(page_server, settings):
    settings.FETCH_MAX_BODY_BYTES = 2048
    long_page = "<html><body><article>" + "<p>A sentence about planes and saws.</p>" * 2000 + "</article></body></html>"
    found = fetch_page_text(page_server.route("/long", long_page))
    assert found.kind == "text" and 0 < len(found.text) < 2048


def test_a_refused_address_is_never_fetched_for_text(settings):
    settings.FETCH_ALLOW_NETWORKS = []
    found = fetch_page_text("http://127.0.0.1:9/")
    assert found.kind == "failed" and found.error.startswith("blocked: 127.0.0.1") and not found.retryable


def test_a_page_that_times_out_is_a_retryable_failure(page_server):
    found = fetch_page_text(page_server.route("/hang", hang=5), timeout=0.3)
    assert found.kind == "failed" and found.retryable and found.error.startswith("timeout")


def test_a_missing_page_keeps_no_text(page_server):
    found = fetch_page_text(page_server.url("/nothing-here"))
    assert (found.kind, found.http_status, found.retryable) == ("failed", 404, False)


def test_words_are_counted_in_both_scripts():
    assert count_words("Two words") == 2
    assert count_words("传统木工 and more") == 6


@pytest.mark.django_db(transaction=True)
def test_a_saved_page_gets_its_text_from_the_worker_after_its_title(text_worker, page_server):
    bookmark = make_bookmark(make_user(), url=page_server.route("/post", english_article()))
    kept = wait_for(
        lambda: PageText.objects.filter(bookmark=bookmark).first(),
        lambda text: text is not None and text.state != PageText.State.PENDING,
    )
    assert kept.state == PageText.State.KEPT and ENGLISH_BODY_ONLY in kept.text
    assert kept.extracted_at is not None and kept.word_count > 100 and kept.language == "en"
    assert Bookmark.objects.get(pk=bookmark.pk).page_title == "Joints that hold: a short guide | The Workshop Blog"
    assert page_server.requests == ["/post", "/post"]  # the title fetch, then the text fetch


@pytest.mark.django_db(transaction=True)
def test_a_pdf_bookmark_says_it_has_no_text_without_a_second_fetch(text_worker, page_server):
    url = page_server.route("/paper.pdf", b"%PDF-1.4", headers={"Content-Type": "application/pdf"})
    bookmark = make_bookmark(make_user(), url=url)
    row = wait_for(lambda: PageText.objects.filter(bookmark=bookmark).first(), lambda text: text is not None)
    assert (row.state, row.content_type) == (PageText.State.NOT_TEXT, "application/pdf")
    assert page_server.requests == ["/paper.pdf"]


@pytest.mark.django_db(transaction=True)
def test_no_text_is_kept_for_someone_who_turned_it_off(text_worker, page_server):
    owner = make_user()
    services.set_text_keeping(owner, False)
    bookmark = make_bookmark(owner, url=page_server.route("/post", english_article()))
    wait_for(lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.status != Bookmark.Status.PENDING)
    assert services.begin_text(bookmark.pk) is None
    assert not PageText.objects.filter(bookmark=bookmark).exists()


def test_turning_text_keeping_off_deletes_the_texts_kept(user, other_user):
    mine, theirs = make_bookmark(user), make_bookmark(other_user)
    for bookmark in (mine, theirs):
        PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text="kept words")
    assert services.set_text_keeping(user, False) == 1
    assert list(PageText.objects.values_list("bookmark_id", flat=True)) == [theirs.pk]
    assert Preferences.objects.get(user=user).keep_text is False
    services.set_text_keeping(user, True)
    assert Preferences.objects.get(user=user).keep_text is True


def test_deleting_a_bookmark_deletes_its_text(user):
    bookmark = make_bookmark(user)
    PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text="kept words")
    services.delete_bookmarks(user, [bookmark.pk])
    assert not PageText.objects.exists()


def test_the_sweep_owes_texts_to_older_bookmarks_a_bounded_number_at_a_time(user):
    older = [make_bookmark(user, status=Bookmark.Status.OK) for _ in range(3)]
    make_bookmark(user)  # still pending its title: not yet
    assert services.sweep_page_texts(limit=2) == (0, 2)
    owed = PageText.objects.filter(state=PageText.State.PENDING).values_list("bookmark_id", flat=True)
    assert sorted(owed) == [older[0].pk, older[1].pk]
    assert services.sweep_page_texts(limit=2) == (0, 1)
    assert services.sweep_page_texts(limit=2) == (0, 0)


def test_a_text_lost_on_the_way_is_queued_again_by_the_sweep(user):
    from datetime import timedelta

    from django.utils import timezone

    bookmark = make_bookmark(user, status=Bookmark.Status.OK)
    PageText.objects.create(bookmark=bookmark, queued_at=timezone.now() - timedelta(hours=2))
    assert services.sweep_page_texts(limit=5) == (1, 0)
    assert services.sweep_page_texts(limit=5) == (0, 0)  # touched: not again until stale again


@pytest.mark.django_db(transaction=True)
def test_the_command_keeps_the_texts_of_older_bookmarks_with_progress(page_server):
    owner = make_user("carol")
    english = make_bookmark(owner, url=page_server.route("/en", english_article()), status=Bookmark.Status.OK)
    chinese = make_bookmark(
        owner,
        url=page_server.route("/zh", chinese_gbk_article(), headers={"Content-Type": "text/html"}),
        status=Bookmark.Status.OK,
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("keep_page_texts", user="carol", stdout=out, stderr=err)
    assert "2 bookmarks: 2 texts kept" in out.getvalue()
    assert "keeping page texts" in err.getvalue() and "2/2" in err.getvalue()
    assert CHINESE_BODY_ONLY in PageText.objects.get(bookmark=chinese).text
    assert ENGLISH_BODY_ONLY in PageText.objects.get(bookmark=english).text
    out = io.StringIO()
    call_command("keep_page_texts", user="carol", stdout=out, stderr=io.StringIO())
    assert "0 bookmarks" in out.getvalue()


def test_text_keeping_is_turned_off_and_on_in_settings(alice_client, user):
    bookmark = make_bookmark(user)
    PageText.objects.create(bookmark=bookmark, state=PageText.State.KEPT, text="kept words")
    assert 'name="keep_text" value="1" checked' in alice_client.get("/settings/").content.decode()
    response = alice_client.post("/settings/page-text/", {}, follow=True)
    assert "1 text deleted" in response.content.decode() and not PageText.objects.exists()
    assert 'name="keep_text" value="1" checked' not in response.content.decode()
    alice_client.post("/settings/page-text/", {"keep_text": "1"})
    assert services.keeps_text(user)

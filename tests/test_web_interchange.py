"""Web import (upload, Celery task, progress), export download, feeds, settings and the bookmarklet."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookmarks.interchange import netscape
from bookmarks.interchange.import_jobs import start_import
from bookmarks.models import AccessToken, Bookmark, ImportJob, ImportPart
from bookmarks.tokens import token_for
from tests.conftest import make_bookmark
from tests.fixtures.celery import wait_for

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "netscape"


def xml(content: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(content)  # noqa: S314 (our own server's reply)


def feed_url(user, kind: str = "rss") -> str:
    return reverse(f"feed_{kind}", args=[token_for(user, AccessToken.Kind.FEED)])


# -- import through the page and a real worker --------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_imported_by_the_worker_with_progress(celery_worker, alice_client, user):
    upload = SimpleUploadedFile(
        "firefox.html", (CONFORMANCE / "netscape-bookmark-parser-firefox_nested.html").read_bytes()
    )
    response = alice_client.post(reverse("bookmarks:import"), {"file": upload, "folders_as_tags": "on"})
    job = ImportJob.objects.get(owner=user)
    assert response.url == reverse("bookmarks:import_job", args=[job.pk])
    status_url = reverse("bookmarks:import_job_status", args=[job.pk])
    status = wait_for(lambda: alice_client.get(status_url).json(), lambda s: s["finished"])
    assert (status["state"], status["created"], status["skipped"], status["done"]) == ("done", 21, 3, 24)
    assert Bookmark.objects.filter(owner=user, tags__name="Comics").count() == 4
    assert not ImportPart.objects.filter(job=job).exists()


@pytest.mark.django_db
def test_the_progress_page_polls_its_status_address(alice_client, user):
    job = ImportJob.objects.create(owner=user, file_name="b.html", state=ImportJob.State.RUNNING, total=10, done=4)
    page = alice_client.get(reverse("bookmarks:import_job", args=[job.pk])).content.decode()
    assert reverse("bookmarks:import_job_status", args=[job.pk]) in page
    assert '<progress id="import-progress" max="10" value="4">' in page


@pytest.mark.django_db
def test_the_import_status_words_its_summary_in_the_chosen_language(alice_client, user):
    job = ImportJob.objects.create(owner=user, state=ImportJob.State.DONE, total=6, done=6, created=5, updated=1)
    alice_client.cookies["django_language"] = "zh-hans"
    status = alice_client.get(reverse("bookmarks:import_job_status", args=[job.pk])).json()
    assert status["summary"] == "新增 5 个，已存在 1 个（已更新），跳过 0 个。"


@pytest.mark.django_db
def test_another_users_import_job_is_a_404(alice_client, other_user):
    job = ImportJob.objects.create(owner=other_user, file_name="theirs.html")
    assert alice_client.get(reverse("bookmarks:import_job", args=[job.pk])).status_code == 404
    assert alice_client.get(reverse("bookmarks:import_job_status", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_a_job_runs_once_even_if_delivered_twice(user):
    from bookmarks.interchange.import_jobs import run_job

    job = start_import(
        user, "b.html", [(CONFORMANCE / "linkding-simple_valid_import_file.html").read_bytes()], folders_as_tags=False
    )
    assert (run_job(job.pk), run_job(job.pk)) == ("done", "skipped")
    assert ImportJob.objects.get(pk=job.pk).created == 3


@pytest.mark.django_db
def test_a_file_that_is_not_bookmarks_fails_with_a_message(user):
    from bookmarks.interchange.import_jobs import run_job

    job = start_import(user, "b.json", [b'["not", "posts"'], folders_as_tags=False)
    assert run_job(job.pk) == "failed"
    assert "JSON" in ImportJob.objects.get(pk=job.pk).error


# -- export ---------------------------------------------------------------------


@pytest.mark.django_db
def test_export_downloads_only_your_bookmarks_as_netscape_html(alice_client, user, other_user):
    make_bookmark(user, "https://example.com/mine", title="Mine", tags=["a"])
    make_bookmark(other_user, "https://example.com/theirs")
    response = alice_client.get(reverse("bookmarks:export"))
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("<!DOCTYPE NETSCAPE-Bookmark-file-1>")
    assert [entry.url for entry in netscape.parse(body)] == ["https://example.com/mine"]


# -- feeds ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_feed_token_is_a_404(client, user):
    make_bookmark(user)
    assert client.get(reverse("feed_rss", args=["WRONG"])).status_code == 404
    assert client.get(reverse("feed_atom", args=[token_for(user, AccessToken.Kind.API)])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("cut", [lambda key: key[:-1], lambda key: key[:1], lambda key: key + "0", str.lower])
def test_a_feed_token_matches_only_whole_and_exact(client, user, cut):
    key = token_for(user, AccessToken.Kind.FEED)
    assert client.get(reverse("feed_rss", args=[key])).status_code == 200
    assert client.get(reverse("feed_rss", args=[cut(key)])).status_code == 404


@pytest.mark.django_db
def test_the_rss_feed_lists_only_the_token_owners_bookmarks(client, user, other_user):
    make_bookmark(user, "https://example.com/mine", title="Mine <b>", note="my <i>note</i>")
    make_bookmark(other_user, "https://example.com/theirs")
    channel = xml(client.get(feed_url(user)).content).find("channel")
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == ["https://example.com/mine"]
    assert items[0].findtext("title") == "Mine <b>"
    assert "&lt;i&gt;" in items[0].findtext("description")


@pytest.mark.django_db
def test_feeds_filter_by_tag_and_by_search(client, user):
    make_bookmark(user, "https://example.com/1", title="Django tips", tags=["web"])
    make_bookmark(user, "https://example.com/2", title="Rust book", tags=["lang"])
    by_tag = xml(client.get(feed_url(user), {"tag": "web"}).content).find("channel").findall("item")
    by_search = xml(client.get(feed_url(user), {"q": "rust"}).content).find("channel").findall("item")
    assert [item.findtext("link") for item in by_tag] == ["https://example.com/1"]
    assert [item.findtext("link") for item in by_search] == ["https://example.com/2"]


@pytest.mark.django_db
def test_the_atom_feed_is_atom(client, user):
    make_bookmark(user, "https://example.com/1", tags=["x"])
    root = xml(client.get(feed_url(user, "atom")).content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"


@pytest.mark.django_db
def test_regenerating_the_feed_token_ends_the_old_address(alice_client, user):
    old = feed_url(user)
    alice_client.post(reverse("regenerate_token", args=["feed"]))
    assert alice_client.get(old).status_code == 404
    assert alice_client.get(feed_url(user)).status_code == 200


# -- settings ---------------------------------------------------------------------


@pytest.mark.django_db
def test_settings_show_the_bookmarklet_feeds_and_api_token(alice_client, user):
    page = alice_client.get(reverse("settings")).content.decode()
    assert "javascript:(function(){window.open(&quot;http://testserver/bookmarks/add/&quot;" in page
    assert "encodeURIComponent(document.title)" in page
    assert token_for(user, AccessToken.Kind.FEED) in page
    assert f"alice:{token_for(user, AccessToken.Kind.API)}" in page
    assert reverse("bookmarks:import") in page and reverse("bookmarks:export") in page


@pytest.mark.django_db
def test_the_bookmarklet_address_prefills_the_add_form(alice_client):
    page = alice_client.get(reverse("bookmarks:add"), {"url": "https://example.com/x", "title": "X page"})
    assert 'value="https://example.com/x"' in page.content.decode()
    assert 'value="X page"' in page.content.decode()

"""Site icons beside bookmarks (issue 20): one per host, fetched by the worker, served by the site itself."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookmarks.fetching.favicons import FoundIcon
from bookmarks.models import Bookmark, Favicon
from bookmarks.services import favicons
from tests.conftest import make_bookmark
from tests.fixtures.celery import wait_for
from tests.fixtures.icons import PNG_ICON, icon_file, page_naming_icon

DEFAULT_ICON = "/static/img/site-icon.svg"


def icon_sources(client, url: str = "/bookmarks/") -> list[str]:
    html = client.get(url).content.decode()
    return re.findall(r'<img class="site-icon" src="([^"]+)"', html)


def settled(host: str) -> Favicon | None:
    return wait_for(lambda: Favicon.objects.filter(host=host).first(), lambda row: row and row.queued_at is None)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Example.COM/a", "example.com"),
        ("https://example.com:443/a", "example.com"),
        ("http://example.com:8080/a", "example.com:8080"),
        ("https://bücher.example/", "xn--bcher-kva.example"),
        ("http://[::1]:8000/", "[::1]:8000"),
        ("not a url", ""),
    ],
)
def test_an_icon_belongs_to_a_host_with_its_port_unless_it_is_the_schemes_own(url, host):
    assert favicons.host_of(url) == host


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://user:secret@example.com/a", "https://example.com"),
        ("HTTP://example.com:8080/a?b", "http://example.com:8080"),
    ],
)
def test_favicon_ico_is_looked_for_at_the_pages_origin_without_its_credentials(url, origin):
    assert favicons.origin_of(url, favicons.host_of(url)) == origin


@pytest.mark.django_db(transaction=True)
def test_the_worker_fetches_the_icon_the_page_names_and_the_list_shows_it_from_our_site(
    favicon_worker, page_server, alice_client, user
):
    page_server.route("/static/icon.png", icon_file("PNG", size=(48, 48)), headers={"Content-Type": "image/png"})
    make_bookmark(user, url=page_server.route("/post", page_naming_icon("/static/icon.png")))
    row = settled(f"127.0.0.1:{page_server.port}")
    assert row.digest and row.source_url == page_server.url("/static/icon.png")
    [src] = icon_sources(alice_client)
    assert src == f"/bookmarks/icons/127.0.0.1:{page_server.port}.png?v={row.digest[:16]}"
    served = alice_client.get(src)
    assert (served.status_code, served["Content-Type"]) == (200, "image/png")
    assert served.content == bytes(row.image)
    assert page_server.requests == ["/post", "/static/icon.png"]


@pytest.mark.django_db(transaction=True)
def test_many_bookmarks_on_one_host_make_one_icon_fetch(favicon_worker, page_server, user):
    page_server.route("/favicon.ico", icon_file("ICO"), headers={"Content-Type": "image/x-icon"})
    bookmarks = [make_bookmark(user, url=page_server.route(f"/p{n}", "<title>P</title>")) for n in range(8)]
    wait_for(
        lambda: Bookmark.objects.filter(pk__in=[b.pk for b in bookmarks], status="pending").count(),
        lambda pending: pending == 0,
    )
    assert settled(f"127.0.0.1:{page_server.port}").digest
    assert page_server.requests.count("/favicon.ico") == 1


@pytest.mark.django_db(transaction=True)
def test_the_title_is_recorded_without_waiting_for_the_icon(celery_worker, page_server, user):
    # celery_worker does not read the icon queue: the title and its confirmation go out all the same.
    bookmark = make_bookmark(user, url=page_server.route("/post", "<title>Post</title>"))
    bookmark = wait_for(lambda: Bookmark.objects.get(pk=bookmark.pk), lambda b: b.status != "pending")
    assert bookmark.page_title == "Post"
    row = Favicon.objects.get(host=f"127.0.0.1:{page_server.port}")
    assert row.queued_at is not None and row.digest == ""
    assert page_server.requests == ["/post"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404},
        {"body": b"<html><title>Not here</title></html>", "headers": {"Content-Type": "image/x-icon"}},
        {"body": PNG_ICON + b"\0" * 200_000, "headers": {"Content-Type": "image/png"}},
        {"body": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'},
    ],
    ids=["missing", "not-an-image", "oversize", "svg"],
)
def test_a_site_without_a_usable_icon_shows_the_default_icon(favicon_worker, page_server, alice_client, user, answer):
    page_server.route("/favicon.ico", **answer)
    make_bookmark(user, url=page_server.route("/post", "<title>Post</title>"))
    row = settled(f"127.0.0.1:{page_server.port}")
    assert row.digest == "" and row.error
    assert icon_sources(alice_client) == [DEFAULT_ICON]


def test_a_page_that_was_never_reached_owes_no_icon(user, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    bookmark = make_bookmark(user, url="http://127.0.0.1:9/post")
    from bookmarks.fetching.metadata import fetch_page_metadata
    from bookmarks.services import record_fetch

    record_fetch(bookmark, fetch_page_metadata(bookmark.url))
    assert not Favicon.objects.exists()


@pytest.mark.django_db
def test_an_icon_is_claimed_once_until_it_is_due_again(settings):
    settings.FAVICON_REFRESH_DAYS = 30
    place = {"origin": "https://example.com", "page_icon_url": ""}
    now = timezone.now()
    assert favicons.claim("example.com", now=now, **place) is True
    assert favicons.claim("example.com", now=now, **place) is False  # owed already
    row = Favicon.objects.get(host="example.com")
    favicons.record_favicon(row, FoundIcon(png=PNG_ICON, source_url="https://example.com/favicon.ico"), now=now)
    assert favicons.claim("example.com", now=now + timedelta(days=29), **place) is False
    assert favicons.claim("example.com", now=now + timedelta(days=31), **place) is True


@pytest.mark.django_db
def test_a_host_without_an_icon_is_asked_again_a_day_later():
    now = timezone.now()
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now)
    favicons.record_favicon(Favicon.objects.get(host="example.com"), FoundIcon(error="HTTP 404"), now=now)
    assert favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now) is False
    later = now + timedelta(days=1, minutes=1)
    assert favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=later) is True


@pytest.mark.django_db
def test_a_claim_lost_with_its_task_is_taken_again_an_hour_later():
    now = timezone.now()
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now)
    assert favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now) is False
    later = now + timedelta(hours=1, minutes=1)
    assert favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=later) is True


@pytest.mark.django_db
def test_a_fetch_lost_on_the_way_is_sent_again_by_the_sweep_an_hour_later():
    now = timezone.now()
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now)
    assert favicons.sweep_favicons(now=now + timedelta(minutes=30)) == 0
    assert favicons.sweep_favicons(now=now + timedelta(hours=1, minutes=1)) == 1
    assert Favicon.objects.get(host="example.com").queued_at == now + timedelta(hours=1, minutes=1)


@pytest.mark.django_db
def test_a_refresh_that_times_out_keeps_the_icon_and_one_refused_drops_it():
    now = timezone.now()
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now)
    favicons.record_favicon(Favicon.objects.get(host="example.com"), FoundIcon(png=PNG_ICON), now=now)
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now + timedelta(days=31))
    favicons.record_favicon(Favicon.objects.get(host="example.com"), FoundIcon(error="timeout", retryable=True))
    assert Favicon.objects.get(host="example.com").digest
    favicons.claim("example.com", origin="https://example.com", page_icon_url="", now=now + timedelta(days=62))
    favicons.record_favicon(Favicon.objects.get(host="example.com"), FoundIcon(error="not an image"))
    assert Favicon.objects.get(host="example.com").digest == ""


def stored_icon(host: str = "example.com") -> Favicon:
    now = timezone.now()
    favicons.claim(host, origin=f"https://{host}", page_icon_url="", now=now)
    favicons.record_favicon(Favicon.objects.get(host=host), FoundIcon(png=PNG_ICON), now=now)
    return Favicon.objects.get(host=host)


def test_a_served_icon_is_cached_long_under_its_version_and_never_sniffed(alice_client, user):
    make_bookmark(user, url="https://example.com/a")
    icon = stored_icon()
    [src] = icon_sources(alice_client)
    answer = alice_client.get(src)
    assert answer["Cache-Control"] == "private, max-age=31536000, immutable"
    assert answer["ETag"] == f'"{icon.digest}"'
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"


def test_an_icon_asked_again_with_its_etag_is_not_sent_again(alice_client):
    icon = stored_icon()
    answer = alice_client.get("/bookmarks/icons/example.com.png", headers={"If-None-Match": f'"{icon.digest}"'})
    assert (answer.status_code, answer.content) == (304, b"")


def test_an_icon_without_its_current_version_is_cached_a_day(alice_client):
    stored_icon()
    assert alice_client.get("/bookmarks/icons/example.com.png?v=old")["Cache-Control"] == "private, max-age=86400"


def test_icons_are_for_signed_in_people_only(client, db):
    stored_icon()
    answer = client.get("/bookmarks/icons/example.com.png")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_a_host_without_an_icon_is_not_found(alice_client):
    assert alice_client.get("/bookmarks/icons/nowhere.example.png").status_code == 404


def test_bookmarks_on_a_host_share_its_icon_and_others_show_the_default(alice_client, user):
    make_bookmark(user, url="https://example.com/a")
    make_bookmark(user, url="https://example.com/b")
    make_bookmark(user, url="https://elsewhere.example/c")
    icon = stored_icon()
    mine = f"/bookmarks/icons/example.com.png?v={icon.digest[:16]}"
    assert icon_sources(alice_client) == [DEFAULT_ICON, mine, mine]


def test_the_list_reads_every_icon_in_one_query(alice_client, user, django_assert_max_num_queries):
    for n in range(3):
        make_bookmark(user, url=f"https://site{n}.example/a")
        stored_icon(f"site{n}.example")
    with django_assert_max_num_queries(30) as few:
        alice_client.get("/bookmarks/")
    for n in range(3, 12):
        make_bookmark(user, url=f"https://site{n}.example/a")
        stored_icon(f"site{n}.example")
    with django_assert_max_num_queries(len(few.captured_queries)):
        sources = icon_sources(alice_client)
    assert len(sources) == 12 and DEFAULT_ICON not in sources


def test_the_command_fetches_the_icons_of_sites_saved_before_icons_were_fetched(page_server, user):
    page_server.route("/favicon.ico", icon_file("ICO"), headers={"Content-Type": "image/x-icon"})
    for path in ("/a", "/b"):
        make_bookmark(user, url=page_server.url(path), status="ok", http_status=200, final_url=page_server.url(path))
    make_bookmark(user, url="https://never-fetched.example/", status="pending")
    out = io.StringIO()
    call_command("fetch_favicons", "--user", "alice", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == "sites without an icon: 1; icons kept: 1; no usable icon: 0"
    assert Favicon.objects.get(host=f"127.0.0.1:{page_server.port}").digest
    assert page_server.requests == ["/favicon.ico"]


def test_every_worker_reads_the_icon_queue_and_the_beat_sweeps_it(settings):
    from bookmarks import tasks

    procfile = (settings.BASE_DIR / "Procfile").read_text().splitlines()
    worker_line = next(line for line in procfile if line.startswith("worker:"))
    assert "favicon" in worker_line.split("-Q ", 1)[1].split()[0].split(",")
    assert settings.CELERY_BEAT_SCHEDULE["sweep-favicons"]["task"] == tasks.sweep_favicons.name

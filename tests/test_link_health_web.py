"""Link health on the web (issue 19, part 4): badges, is:broken / is:moved, the sidebar, check now, new link."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookmarks.models import Bookmark, LinkHealth, PageText
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for
from tests.fixtures.search import titles

pytestmark = pytest.mark.django_db


@pytest.fixture
def links(user):
    """A broken link (with kept text), a moved one, a healthy one, and one never checked."""
    broken = make_bookmark(user, "https://gone.example.com/post", title="Gone post")
    LinkHealth.objects.create(
        bookmark=broken, outcome="gone", broken=True, failures=2, failing_since=timezone.now(), error="HTTP 404"
    )
    PageText.objects.create(bookmark=broken, state=PageText.State.KEPT, text="What the post said.")
    moved = make_bookmark(user, "https://old.example.com/a", title="Moved page")
    LinkHealth.objects.create(bookmark=moved, outcome="moved", final_url="https://new.example.com/a")
    healthy = make_bookmark(user, "https://fine.example.com/", title="Fine page")
    LinkHealth.objects.create(bookmark=healthy, outcome="ok")
    make_bookmark(user, "https://new.example.org/", title="Unchecked page")
    return {"broken": broken, "moved": moved}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("is:broken", ["Gone post"]),
        ("IS:BROKEN", ["Gone post"]),
        ("is:moved", ["Moved page"]),
        ("-is:broken", ["Fine page", "Moved page", "Unchecked page"]),
        ("is:broken post", ["Gone post"]),
        ("is:broken page", []),
        ('"is:broken"', []),  # a phrase is a phrase
    ],
)
def test_the_link_qualifiers_filter_the_search(links, user, query, expected):
    assert titles(user, query) == expected


def test_the_list_shows_broken_and_moved_links(alice_client, links):
    html = alice_client.get("/bookmarks/").content.decode()
    assert '<span class="badge warn" title="HTTP 404">broken link</span>' in html
    assert '<span class="badge moved">moved</span>' in html and "→ https://new.example.com/a" in html
    assert f'action="/bookmarks/{links["moved"].pk}/relink/"' in html
    assert "Broken links (1)" in html and "Moved links (1)" in html


def test_using_the_new_link_updates_the_bookmark(alice_client, links):
    alice_client.post(f"/bookmarks/{links['moved'].pk}/relink/")
    bookmark = Bookmark.objects.get(pk=links["moved"].pk)
    assert bookmark.url == "https://new.example.com/a" and bookmark.title == "Moved page"
    assert titles(bookmark.owner, "is:moved") == []


def test_no_one_relinks_or_checks_another_persons_bookmark(alice_client, other_user):
    theirs = make_bookmark(other_user)
    assert alice_client.post(f"/bookmarks/{theirs.pk}/relink/").status_code == 404
    assert alice_client.post(f"/bookmarks/{theirs.pk}/check/").status_code == 404


def test_the_reader_says_a_link_is_broken_and_still_shows_its_text(alice_client, links):
    html = alice_client.get(f"/bookmarks/{links['broken'].pk}/read/").content.decode()
    assert "This link seems broken" in html and "<p>What the post said.</p>" in html


@pytest.mark.django_db(transaction=True)
def test_check_now_checks_the_link_in_the_worker(celery_worker, page_server):
    owner = make_user("frank")
    bookmark = make_bookmark(owner, url=page_server.route("/p", status=410), status=Bookmark.Status.OK)
    from django.test import Client

    client = Client()
    client.force_login(owner)
    response = client.post(f"/bookmarks/{bookmark.pk}/check/", follow=True)
    assert "Checking the link to 127.0.0.1" in response.content.decode()
    health = wait_for(lambda: LinkHealth.objects.filter(bookmark=bookmark).first(), lambda row: row is not None)
    assert (health.outcome, health.http_status) == ("gone", 410)


@pytest.mark.django_db(transaction=True)
def test_bulk_re_check_checks_the_ticked_links(celery_worker, page_server):
    owner = make_user("grace")
    ticked = [
        make_bookmark(owner, url=page_server.route(f"/{name}", "<title>x</title>"), status=Bookmark.Status.OK)
        for name in ("a", "b")
    ]
    from django.test import Client

    client = Client()
    client.force_login(owner)
    response = client.post("/bookmarks/bulk/", {"action": "recheck", "ids": [b.pk for b in ticked]}, follow=True)
    assert "Checking 2 links again." in response.content.decode()
    wait_for(lambda: LinkHealth.objects.filter(checked_at__isnull=False).count(), lambda n: n == 2)

"""Link health (issue 19, part 4): links checked again under the fetcher's policy, broken only when confirmed."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookmarks.fetching.health import check_link
from bookmarks.models import Bookmark, LinkHealth
from bookmarks.services import health
from tests.conftest import free_port, make_bookmark, make_user

pytestmark = pytest.mark.django_db

PAGE = "<html><head><title>Still here</title></head><body><p>x</p></body></html>"


def checked(user, url: str, **overrides) -> Bookmark:
    """A bookmark saved two months ago: its link is due a check."""
    saved = timezone.now() - timedelta(days=60)
    return make_bookmark(user, url=url, status=Bookmark.Status.OK, added_at=saved, **overrides)


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "ok"), (404, "gone"), (410, "gone"), (500, "failing"), (503, "failing"), (403, "ok")]
)
def test_the_checker_reads_the_answer(page_server, status, outcome):
    result = check_link(page_server.route("/p", PAGE, status=status))
    assert (result.outcome, result.http_status) == (outcome, status)


def test_a_link_that_redirects_elsewhere_has_moved(page_server):
    page_server.route("/new-home", PAGE)
    result = check_link(page_server.route("/old", status=301, headers={"Location": "/new-home"}))
    assert (result.outcome, result.final_url) == ("moved", page_server.url("/new-home"))


def test_a_redirect_that_only_tidies_the_link_is_not_a_move(page_server):
    page_server.route("/p/", PAGE)
    result = check_link(page_server.route("/p", status=301, headers={"Location": "/p/?utm_source=x"}))
    assert result.outcome == "ok"


def test_a_timeout_and_a_refused_connection_are_failures(page_server):
    assert check_link(page_server.route("/hang", hang=5), timeout=0.3).outcome == "failing"
    assert check_link(f"http://127.0.0.1:{free_port()}/", timeout=2).outcome == "failing"


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.0.1", "[fd00::1]"])
def test_the_checker_never_connects_to_a_refused_address(settings, address):
    settings.FETCH_ALLOW_NETWORKS = []
    result = check_link(f"http://{address}/admin", timeout=30)
    assert result.outcome == "refused" and result.error.startswith("blocked:")


def test_a_redirect_to_a_refused_address_is_refused_and_not_followed(page_server):
    url = page_server.route("/jump", status=302, headers={"Location": "http://10.0.0.7/secret"})
    assert check_link(url, timeout=30).outcome == "refused"
    assert page_server.requests == ["/jump"]


def test_one_failure_is_not_broken_two_a_day_apart_are(user, page_server, settings):
    settings.LINK_CHECK_CONFIRM_HOURS = 24
    bookmark = checked(user, page_server.route("/later-404", PAGE))
    start = timezone.now()
    assert health.record_check(bookmark, check_link(bookmark.url), start).outcome == "ok"
    page_server.route("/later-404", status=404)
    first = health.record_check(bookmark, check_link(bookmark.url), start + timedelta(days=30))
    assert (first.outcome, first.broken, first.failures) == ("gone", False, 1)
    assert first.next_check_at == start + timedelta(days=31)  # checked again a day later, not a month
    too_soon = health.record_check(bookmark, check_link(bookmark.url), start + timedelta(days=30, hours=3))
    assert not too_soon.broken
    confirmed = health.record_check(bookmark, check_link(bookmark.url), start + timedelta(days=31))
    assert confirmed.broken and confirmed.failing_since == start + timedelta(days=30)


def test_with_no_confirmation_one_failure_is_enough(user, page_server, settings):
    settings.LINK_CHECK_CONFIRM_HOURS = 0
    bookmark = checked(user, page_server.route("/down", status=500))
    assert health.record_check(bookmark, check_link(bookmark.url)).broken


def test_a_link_that_answers_again_is_no_longer_broken(user, page_server, settings):
    settings.LINK_CHECK_CONFIRM_HOURS = 0
    bookmark = checked(user, page_server.route("/flaky", status=503))
    assert health.record_check(bookmark, check_link(bookmark.url)).broken
    page_server.route("/flaky", PAGE)
    back = health.record_check(bookmark, check_link(bookmark.url))
    assert (back.outcome, back.broken, back.failures, back.failing_since) == ("ok", False, 0, None)


def test_a_moved_link_offers_its_new_address_and_can_take_it(user, page_server):
    page_server.route("/new-home", PAGE)
    bookmark = checked(user, page_server.route("/old", status=301, headers={"Location": "/new-home"}), title="Mine")
    moved = health.record_check(bookmark, check_link(bookmark.url))
    assert (moved.outcome, moved.final_url) == ("moved", page_server.url("/new-home"))
    updated = health.use_final_url(bookmark)
    assert updated.url == page_server.url("/new-home") and updated.title == "Mine"
    assert LinkHealth.objects.get(bookmark=bookmark).outcome == "ok"


def test_check_links_checks_the_due_links_and_prints_a_summary(page_server):
    owner, other = make_user("dora"), make_user("eve")
    checked(owner, page_server.route("/fine", PAGE))
    checked(owner, page_server.route("/gone", status=410))
    checked(other, page_server.route("/theirs", PAGE))
    out = io.StringIO()
    call_command("check_links", user="dora", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("2 links checked: 1 ok, 0 moved, 1 gone, 0 failing, 0 broken")
    assert sorted(page_server.requests) == ["/fine", "/gone"]
    out = io.StringIO()
    call_command("check_links", user="dora", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("0 links checked")  # not due again for a month
    out = io.StringIO()
    call_command("check_links", "--all", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("3 links checked")


def test_the_sweep_checks_a_bounded_number_a_minute_and_nothing_when_off(user, page_server, settings):
    for name in ("a", "b", "c"):
        checked(user, page_server.route(f"/{name}", PAGE))
    settings.LINK_CHECK_DAYS = 0
    assert health.sweep_link_checks(check_link) == {}
    settings.LINK_CHECK_DAYS, settings.LINK_CHECK_PER_MINUTE = 30, 2
    assert health.sweep_link_checks(check_link)["ok"] == 2
    assert health.sweep_link_checks(check_link)["ok"] == 1
    assert len(page_server.requests) == 3


def test_a_link_saved_lately_is_not_due_before_a_period(user, page_server):
    make_bookmark(user, url=page_server.route("/new", PAGE), status=Bookmark.Status.OK)
    assert list(health.due_links(user)) == []
    assert len(health.due_links(user, every=True)) == 1


def test_a_host_being_checked_is_not_asked_twice_at_once(user, page_server):
    bookmark = checked(user, page_server.route("/p", PAGE))
    with health.host_lock(bookmark.url) as free:
        assert free
        assert health.check_now([bookmark], check_link) == {"busy": 1}
    assert page_server.requests == []
    assert health.check_now([bookmark], check_link) == {"ok": 1}

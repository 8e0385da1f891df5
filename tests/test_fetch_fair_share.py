"""Each account's fair share of the fetch slots, in Redis and through a real worker with stuck DNS lookups."""

from __future__ import annotations

import contextlib
import itertools
import os
import time

import pytest

from bookmarks.models import Bookmark
from bookmarks.services import fair_share
from bookmarks.tasks import MAX_RETRIES
from tests.conftest import make_bookmark, make_user
from tests.fixtures.celery import wait_for

LOOKUP_TIMEOUT = "timeout: looking up the host took too long"
PAGE = "<html><head><title>B's page</title></head><body></body></html>"
_owners = itertools.count(os.getpid() * 1000)


@pytest.fixture
def owner() -> int:
    return next(_owners)


@pytest.fixture
def two_slots(settings):
    settings.FETCH_USER_SLOTS = 2


def test_an_account_gets_no_more_fetch_slots_than_its_share(two_slots, owner):
    with (
        fair_share.fetch_slot(owner) as first,
        fair_share.fetch_slot(owner) as second,
        fair_share.fetch_slot(owner) as third,
    ):
        assert (first, second, third) == (True, True, False)


def test_another_account_has_its_own_share(two_slots, owner):
    other = next(_owners)
    with fair_share.fetch_slot(owner), fair_share.fetch_slot(owner), fair_share.fetch_slot(other) as theirs:
        assert theirs is True


def test_a_slot_is_free_again_when_its_fetch_ends(two_slots, owner):
    with fair_share.fetch_slot(owner):
        with fair_share.fetch_slot(owner):
            pass
        with fair_share.fetch_slot(owner) as again:
            assert again is True
    assert fair_share.running_fetches(owner) == 0


def test_a_slot_a_dead_worker_held_frees_itself_when_its_lease_ends(two_slots, settings, owner):
    long_ago = time.time() - settings.FETCH_TIMEOUT - fair_share.LEASE_MARGIN - 1
    with contextlib.ExitStack() as dead_worker:  # entered and never left while the test looks
        dead_worker.enter_context(fair_share.fetch_slot(owner, now=long_ago))
        dead_worker.enter_context(fair_share.fetch_slot(owner, now=long_ago))
        with fair_share.fetch_slot(owner) as free:
            assert free is True


def test_without_redis_fetches_run_without_the_cap(settings, owner):
    settings.FETCH_USER_SLOTS = 1
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    with fair_share.fetch_slot(owner) as first, fair_share.fetch_slot(owner) as second:
        assert (first, second) == (True, True)


def test_while_the_owners_pace_is_unknown_a_fetch_over_the_share_waits_the_shortest_time(settings, owner):
    settings.FETCH_USER_WAIT = 1.0
    assert 0.8 <= fair_share.wait_before_retaking(owner) <= 1.2


def finish_a_fetch_that_took(owner: int, seconds: float) -> None:
    with fair_share.fetch_slot(owner, now=time.time() - seconds):
        pass


def test_a_fetch_over_the_share_waits_for_its_place_in_the_owners_queue_at_their_pace(two_slots, owner):
    finish_a_fetch_that_took(owner, 4.0)  # the pace: 4 s a fetch, 2 slots: one place is 2 s
    first, second = fair_share.wait_before_retaking(owner), fair_share.wait_before_retaking(owner)
    assert 1.6 <= first <= 2.5 and 3.2 <= second <= 4.9


def test_a_fetch_that_comes_back_leaves_the_queue(two_slots, owner):
    finish_a_fetch_that_took(owner, 4.0)
    fair_share.wait_before_retaking(owner)
    with fair_share.fetch_slot(owner, returning=True):
        assert 1.6 <= fair_share.wait_before_retaking(owner) <= 2.5  # first in the queue again


def test_no_fetch_waits_longer_than_the_ceiling(two_slots, owner):
    finish_a_fetch_that_took(owner, 10_000.0)
    assert fair_share.wait_before_retaking(owner) <= fair_share.MAX_WAIT * 1.2


# --- through the worker ---------------------------------------------------------------------------------------


@pytest.fixture
def stuck_worker(settings, dns_server, page_server, celery_worker):
    """The test worker (4 threads), 2 slots per account, lookups of unknown names that never answer."""
    settings.FETCH_USER_SLOTS = 2
    settings.FETCH_USER_WAIT = 0.05
    settings.FETCH_RETRY_DELAY = 0
    dns_server.answer("pages.favsite.test", "127.0.0.1")
    return dns_server


def save_stuck_links(user, count: int = 16) -> list[Bookmark]:
    return [make_bookmark(user, url=f"http://stuck{i}.favsite.test/") for i in range(count)]


def pending(bookmarks: list[Bookmark]):
    return Bookmark.objects.filter(pk__in=[b.pk for b in bookmarks])


@pytest.mark.django_db(transaction=True)
def test_another_users_link_gets_its_title_while_sixteen_links_of_one_user_are_stuck(
    stuck_worker, page_server, settings
):
    settings.FETCH_TIMEOUT = 5.0
    stuck = save_stuck_links(make_user())
    wait_for(lambda: {name for name in stuck_worker.names if name.startswith("stuck")}, lambda asked: len(asked) >= 2)
    page_server.route("/", PAGE)
    theirs = make_bookmark(make_user(), url=f"http://pages.favsite.test:{page_server.port}/")
    theirs = wait_for(lambda: Bookmark.objects.get(pk=theirs.pk), lambda b: b.status != Bookmark.Status.PENDING)
    untouched = set(pending(stuck).values_list("status", "fetch_attempts"))
    assert (theirs.status, theirs.page_title) == ("ok", "B's page")
    assert untouched == {("pending", 0)}  # not one of the stuck fetches had ended yet


@pytest.mark.django_db(transaction=True)
def test_the_stuck_links_of_one_user_all_end_as_clear_failures(stuck_worker, settings):
    settings.FETCH_TIMEOUT = 0.5
    user = make_user()
    stuck = save_stuck_links(user)
    wait_for(lambda: pending(stuck).filter(status=Bookmark.Status.PENDING).count(), lambda n: n == 0, timeout=120)
    outcomes = set(pending(stuck).values_list("status", "fetch_error", "fetch_attempts"))
    assert outcomes == {("failed", LOOKUP_TIMEOUT, MAX_RETRIES + 1)}
    assert fair_share.running_fetches(user.pk) == 0

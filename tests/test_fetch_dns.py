"""Host name lookups of the fetcher against a DNS server on loopback: deadlines, failures, the address policy."""

from __future__ import annotations

import ipaddress
import threading

import pytest
from django.utils import translation

from bookmarks.fetching import reasons
from bookmarks.fetching.metadata import fetch_page_metadata
from tests.fixtures.celery import wait_for

LOOKUP_TIMEOUT = "timeout: looking up the host took too long"
PAGE = "<html><head><title>Reached by name</title></head><body></body></html>"


def by_name(page_server, name: str, path: str = "/") -> str:
    return f"http://{name}:{page_server.port}{path}"


def test_a_lookup_that_is_never_answered_ends_at_the_deadline_and_says_so(dns_server):
    result = fetch_page_metadata("http://never.favsite.test/", timeout=1.0)
    assert (result.ok, result.error, result.retryable) == (False, LOOKUP_TIMEOUT, True)
    assert "never.favsite.test" in dns_server.names


def test_a_name_answered_by_the_configured_server_is_fetched_at_that_address(dns_server, page_server):
    dns_server.answer("pages.favsite.test", "127.0.0.1")
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, "pages.favsite.test"))
    assert (result.ok, result.title) == (True, "Reached by name")
    assert page_server.requests == ["/"]


def test_an_answer_that_comes_late_but_within_the_deadline_is_used(dns_server, page_server):
    dns_server.answer("slow.favsite.test", "127.0.0.1", delay=0.5)
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, "slow.favsite.test"), timeout=10.0)
    assert (result.ok, result.title) == (True, "Reached by name")


def test_a_name_that_does_not_exist_is_a_clear_failure(dns_server):
    dns_server.missing("gone.favsite.test")
    result = fetch_page_metadata("http://gone.favsite.test/")
    assert (result.ok, result.error) == (False, "could not resolve gone.favsite.test: name not found")


def test_a_name_resolving_to_loopback_is_refused_before_connecting(dns_server, page_server, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    dns_server.answer("inside.favsite.test", "127.0.0.1")
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, "inside.favsite.test"))
    assert (result.ok, result.error, result.retryable) == (False, "blocked: 127.0.0.1 is not a public address", False)
    assert page_server.requests == []


def test_one_private_address_among_public_ones_refuses_the_whole_name(dns_server, page_server):
    # 93.184.215.14 would pass the policy; 10.1.2.3 must not, whatever order the answer has.
    dns_server.answer("mixed.favsite.test", "127.0.0.1", "93.184.215.14", "10.1.2.3")
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, "mixed.favsite.test"))
    assert (result.ok, result.error) == (False, "blocked: 10.1.2.3 is not a public address")
    assert page_server.requests == []


def test_an_ipv6_loopback_answer_is_refused(dns_server, page_server, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    dns_server.answer("six.favsite.test", "::1")
    result = fetch_page_metadata(by_name(page_server, "six.favsite.test"))
    assert (result.ok, result.error) == (False, "blocked: ::1 is not a public address")


def test_localhost_comes_from_the_hosts_file_without_asking_dns(dns_server, page_server, settings):
    settings.FETCH_ALLOW_NETWORKS = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, "localhost"))
    assert (result.ok, result.title) == (True, "Reached by name")
    assert "localhost" not in dns_server.names


@pytest.mark.parametrize("spelling", ["0177.0.0.1", "0x7f.1", "2130706433", "127.1"])
def test_old_ipv4_spellings_are_read_as_browsers_read_them_without_asking_dns(dns_server, page_server, spelling):
    page_server.route("/", PAGE)
    result = fetch_page_metadata(by_name(page_server, spelling))
    assert (result.ok, result.title) == (True, "Reached by name")
    assert dns_server.names == []


def test_sixteen_lookups_that_never_answer_leave_other_lookups_free(dns_server, page_server):
    """The stuck lookups fill no shared pool: a fetch started while they wait gets its title, and they end clearly."""
    page_server.route("/", PAGE)
    dns_server.answer("pages.favsite.test", "127.0.0.1")
    stuck_results = []
    stuck = [
        threading.Thread(
            target=lambda i=i: stuck_results.append(fetch_page_metadata(f"http://stuck{i}.favsite.test/", timeout=5.0))
        )
        for i in range(16)
    ]
    for thread in stuck:
        thread.start()
    # More than a pool of 8 could hold are waiting for an answer.
    wait_for(lambda: {name for name in dns_server.names if name.startswith("stuck")}, lambda asked: len(asked) > 8)
    result = fetch_page_metadata(by_name(page_server, "pages.favsite.test"), timeout=2.0)
    for thread in stuck:
        thread.join()
    assert (result.ok, result.title) == (True, "Reached by name")
    assert {(r.ok, r.error) for r in stuck_results} == {(False, LOOKUP_TIMEOUT)}


def test_a_name_not_found_is_told_in_the_readers_language(dns_server):
    dns_server.missing("gone.favsite.test")
    error = fetch_page_metadata("http://gone.favsite.test/").error
    with translation.override("zh-hans"):
        assert reasons.describe(error) == "无法解析 gone.favsite.test：找不到这个域名"

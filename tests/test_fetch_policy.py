"""The address policy: loopback spellings over real connections, other ranges through check_address only."""

from __future__ import annotations

import ipaddress

import pytest

from bookmarks.fetching.metadata import Blocked, check_address, fetch_page_metadata


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",  # decimal
        "0x7f.1",  # hex, short form
        "0x7f000001",
        "0177.0.0.1",  # octal
        "127.1",
        "127.0.0.2",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ],
)
def test_loopback_spellings_are_refused_before_connecting(page_server, settings, host):
    settings.FETCH_ALLOW_NETWORKS = []
    page_server.route("/", "<title>Internal</title>")
    result = fetch_page_metadata(f"http://{host}:{page_server.port}/")
    assert result.ok is False
    assert result.error.startswith("blocked: ")
    assert result.error.endswith(" is not a public address")
    assert result.retryable is False
    assert page_server.requests == []


def test_the_refusal_names_the_resolved_address(page_server, settings):
    settings.FETCH_ALLOW_NETWORKS = []
    result = fetch_page_metadata(f"http://2130706433:{page_server.port}/")
    assert result.error == "blocked: 127.0.0.1 is not a public address"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/file", "gopher://127.0.0.1:70/"])
def test_schemes_other_than_http_and_https_are_refused(url):
    result = fetch_page_metadata(url)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("blocked: ")


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "168.63.129.16",  # a cloud provider's host services (public by its number)
        "100.64.0.1",  # carrier-grade NAT
        "100.127.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",  # mapped forms are refused whatever they embed
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",
    ],
)
def test_non_public_addresses_are_refused_by_the_policy(address):
    with pytest.raises(Blocked, match=r"^blocked: .+ is not a public address$"):
        check_address(address, allow=[])


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450::1"])
def test_public_addresses_are_allowed(address):
    assert str(check_address(address, allow=[])) == address


def test_allowed_networks_exempt_an_intranet_range():
    assert str(check_address("10.1.2.3", allow=[ipaddress.ip_network("10.0.0.0/8")])) == "10.1.2.3"


def test_allowed_networks_exempt_only_their_range():
    with pytest.raises(Blocked):
        check_address("10.1.2.3", allow=[ipaddress.ip_network("192.168.0.0/16")])


def test_the_policy_reads_fetch_allow_networks_from_settings(settings):
    settings.FETCH_ALLOW_NETWORKS = [ipaddress.ip_network("192.168.5.0/24")]
    assert str(check_address("192.168.5.7")) == "192.168.5.7"

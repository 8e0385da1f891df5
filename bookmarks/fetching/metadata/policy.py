"""Which addresses the fetcher may connect to: public ones only.

The check runs on the resolved IP the socket then connects to (not on the host
name), so DNS rebinding and odd spellings (``2130706433``, ``0x7f.1``) meet
the same rule as ``127.0.0.1``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings

__all__ = ["Blocked", "check_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges refused whatever the ``ipaddress`` flags say (they differ between
# Python versions), including IPv6 forms that embed an IPv4 address and could
# route back into our own network.
_REFUSED = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "168.63.129.16/32",  # a cloud provider's host services (Azure's wire server), reachable from its VMs
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/96",  # unspecified, loopback and IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # old site-local
        "ff00::/8",  # multicast
    )
]


class Blocked(Exception):
    """The fetcher refuses this address or URL by policy (final, never retried)."""


def check_address(ip: str | IPAddress, allow: Iterable[IPNetwork] | None = None) -> IPAddress:
    """Return ``ip`` parsed when the fetcher may connect to it; raise ``Blocked`` otherwise.

    ``allow`` (default ``settings.FETCH_ALLOW_NETWORKS``) exempts ranges, for
    tests and intranet installs.
    """
    address = ipaddress.ip_address(ip.split("%", 1)[0] if isinstance(ip, str) else ip)
    networks = settings.FETCH_ALLOW_NETWORKS if allow is None else allow
    if any(address.version == net.version and address in net for net in networks):
        return address
    flagged = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )
    if flagged or any(address.version == net.version and address in net for net in _REFUSED):
        raise Blocked(f"blocked: {address} is not a public address")
    return address

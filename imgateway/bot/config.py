"""The gateway's connection settings, checked once at start."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class GatewayConfig:
    jid: str
    password: str
    host: str | None
    port: int | None
    tls: str  # starttls | direct | off
    resource: str
    priority: int = 10  # presence priority (RFC 6121: 0..127 here): a standby gateway runs lower

    @classmethod
    def from_settings(cls) -> GatewayConfig:
        if not settings.XMPP_JID or not settings.XMPP_PASSWORD:
            raise ImproperlyConfigured("XMPP_JID and XMPP_PASSWORD must be set to run the gateway")
        host = port = None
        if settings.XMPP_SERVER:
            host, _sep, raw_port = settings.XMPP_SERVER.rpartition(":")
            if not host or not raw_port.isdigit():
                raise ImproperlyConfigured(f"XMPP_SERVER must be host:port, not {settings.XMPP_SERVER!r}")
            host, port = host.strip("[]"), int(raw_port)
        if settings.XMPP_TLS == "off" and not _is_loopback(host):
            raise ImproperlyConfigured("XMPP_TLS=off is only allowed when XMPP_SERVER is a loopback address")
        if settings.XMPP_PRIORITY > 127:
            raise ImproperlyConfigured(f"XMPP_PRIORITY must be at most 127, not {settings.XMPP_PRIORITY}")
        return cls(
            settings.XMPP_JID,
            settings.XMPP_PASSWORD,
            host,
            port,
            settings.XMPP_TLS,
            settings.XMPP_RESOURCE,
            settings.XMPP_PRIORITY,
        )


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

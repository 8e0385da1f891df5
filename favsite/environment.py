"""Strict readers for configuration taken from the environment.

Each helper refuses a value it does not understand instead of guessing, so a
typo in a deployment fails at start-up with a message that names the variable.
Every reader also accepts ``NAME_FILE``: the path of a file holding the value
(Docker and systemd secrets), which wins over ``NAME``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Every variable name the settings asked for; the deployment tests check that
# docker-compose sets nothing the code does not read.
READ_NAMES: set[str] = set()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    """The raw value of ``name`` (or the contents of ``name_FILE``); empty means unset."""
    READ_NAMES.add(name)
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
    # An empty value counts as unset, as in docker-compose ``.env`` files.
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name, "")
    value = raw.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env_str(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = env_str(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = env_str(name, "")
    if not raw.strip():
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of CIDRs such as ``127.0.0.0/8,::1/128``."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network in CIDR notation") from None
    return networks


def env_dns_servers(name: str) -> list[str]:
    """Comma-separated DNS servers: IP addresses with an optional port (``127.0.0.1:5353``, ``[::1]:53``)."""
    servers = []
    for item in env_list(name):
        host, port = item, ""
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") if rest.startswith(":") else rest
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            address = ipaddress.ip_address(host)
            if port and not (port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(port)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address with an optional :port") from None
        spelled = f"[{address}]" if address.version == 6 and port else str(address)
        servers.append(f"{spelled}:{port}" if port else spelled)
    return servers


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value

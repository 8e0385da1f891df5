"""``EMAIL_URL``: where the worker sends mail (password resets), as one URL.

    smtp://host[:port]                  plain SMTP (port 25), e.g. a relay on the same host or network
    smtp+starttls://user:pass@host[:port]   SMTP upgraded with STARTTLS (port 587)
    smtps://user:pass@host[:port]       SMTP over TLS from the start (port 465)
    console:                            mails are printed by the worker (development)
    dummy:                              mails are dropped

User name and password are percent-encoded (``@`` is ``%40``). ``?timeout=N``
sets the seconds one SMTP conversation may take (default 10). Whatever the
URL says, a web request never talks SMTP: the site queues each mail and the
worker sends it (``bookmarks.mail``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
# scheme -> (default port, STARTTLS, TLS from the start)
SMTP_SCHEMES = {"smtp": (25, False, False), "smtp+starttls": (587, True, False), "smtps": (465, False, True)}
DEFAULT_TIMEOUT = 10.0
NO_SMTP = {
    "EMAIL_HOST": "localhost",
    "EMAIL_PORT": 25,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "EMAIL_TIMEOUT": DEFAULT_TIMEOUT,
}


def parse_email_url(url: str) -> dict[str, object]:
    """The Django e-mail settings ``url`` stands for; ``EMAIL_DELIVERY_BACKEND`` is what the worker sends with.

    An empty ``url`` means mail is off: ``EMAIL_DELIVERY_BACKEND`` is empty.
    Without an SMTP server the SMTP settings keep Django's defaults.
    """
    url = url.strip()
    if not url:
        return {**NO_SMTP, "EMAIL_DELIVERY_BACKEND": ""}
    scheme = url.split(":", 1)[0].lower()
    if scheme in BACKENDS:
        if url[len(scheme) + 1 :].strip("/"):
            raise ImproperlyConfigured(f"EMAIL_URL: {scheme}: takes nothing after it, not {url!r}")
        return {**NO_SMTP, "EMAIL_DELIVERY_BACKEND": BACKENDS[scheme]}
    if scheme not in SMTP_SCHEMES:
        known = ", ".join([*(f"{name}://" for name in SMTP_SCHEMES), *(f"{name}:" for name in BACKENDS)])
        raise ImproperlyConfigured(f"EMAIL_URL must start with one of {known}, not {url.split(':', 1)[0]!r}")
    return _smtp_settings(url, scheme)


def _smtp_settings(url: str, scheme: str) -> dict[str, object]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no mail server host, as in smtp+starttls://user:pass@host:587")
    default_port, starttls, direct_tls = SMTP_SCHEMES[scheme]
    return {
        "EMAIL_DELIVERY_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": starttls,
        "EMAIL_USE_SSL": direct_tls,
        "EMAIL_TIMEOUT": _timeout(parts.query),
    }


def _timeout(query: str) -> float:
    params = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"timeout"})
    if unknown:
        raise ImproperlyConfigured(f"EMAIL_URL: unknown parameter {unknown[0]!r} (only timeout=SECONDS is read)")
    raw = params.get("timeout", [""])[-1]
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL: timeout must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ImproperlyConfigured(f"EMAIL_URL: timeout must be above 0, not {raw!r}")
    return value


def default_from_address(site_url: str) -> str:
    """``favsite <noreply@HOST>`` for the host of ``SITE_URL`` (``localhost`` when that is an address)."""
    host = urlsplit(site_url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
        host = "localhost"
    except ValueError:
        pass
    return f"favsite <noreply@{host}>"

"""``EMAIL_URL`` -> Django's mail settings (README.md, Configuration, lists the forms).

``smtp://`` (port 25), ``smtp+starttls://`` (587), ``smtps://`` (465), with
``user:password@`` percent-encoded and ``?timeout=SECONDS``; ``console:``
or ``dummy:``; empty: mail is off (``EMAIL_DELIVERY_BACKEND`` is empty).
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
OTHER_BACKENDS = ("console", "dummy")
# scheme -> (default port, STARTTLS, TLS from the start)
SMTP_SCHEMES = {"smtp": (25, False, False), "smtp+starttls": (587, True, False), "smtps": (465, False, True)}


def parse_email_url(url: str) -> dict[str, object]:
    """The settings ``url`` stands for: ``EMAIL_DELIVERY_BACKEND`` (what the worker sends with), ``EMAIL_HOST``, ..."""
    found = {"EMAIL_DELIVERY_BACKEND": "", "EMAIL_HOST": "localhost", "EMAIL_PORT": 25, "EMAIL_HOST_USER": ""}
    found.update(EMAIL_HOST_PASSWORD="", EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_TIMEOUT=10.0)
    url = url.strip()
    scheme = url.split(":", 1)[0].lower()
    if scheme in OTHER_BACKENDS:
        if url[len(scheme) + 1 :].strip("/"):
            raise ImproperlyConfigured(f"EMAIL_URL: {scheme}: takes nothing after it, not {url!r}")
        found["EMAIL_DELIVERY_BACKEND"] = f"django.core.mail.backends.{scheme}.EmailBackend"
    elif scheme in SMTP_SCHEMES:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured("EMAIL_URL has a port that is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL names no mail server, as in smtp+starttls://user:pass@host:587")
        default_port, starttls, direct_tls = SMTP_SCHEMES[scheme]
        found.update(EMAIL_DELIVERY_BACKEND=SMTP_BACKEND, EMAIL_HOST=parts.hostname, EMAIL_PORT=port or default_port)
        found.update(EMAIL_HOST_USER=unquote(parts.username or ""), EMAIL_HOST_PASSWORD=unquote(parts.password or ""))
        found.update(EMAIL_USE_TLS=starttls, EMAIL_USE_SSL=direct_tls, EMAIL_TIMEOUT=_timeout(parts.query))
    elif url:
        known = "smtp://, smtp+starttls://, smtps://, console: or dummy:"
        raise ImproperlyConfigured(f"EMAIL_URL must start with {known}, not {scheme!r}")
    return found


def _timeout(query: str) -> float:
    params = parse_qs(query, keep_blank_values=True)
    for name in params:
        if name != "timeout":
            raise ImproperlyConfigured(f"EMAIL_URL: unknown parameter {name!r} (only timeout=SECONDS is read)")
    raw = params.get("timeout", ["10"])[-1]
    value = float(raw) if raw.replace(".", "", 1).isdigit() else 0.0
    if not value > 0:
        raise ImproperlyConfigured(f"EMAIL_URL: timeout must be a number of seconds above 0, not {raw!r}")
    return value


def default_from_address(site_url: str) -> str:
    """``favsite <noreply@HOST>`` for the host of ``SITE_URL`` (``localhost`` when that is an address)."""
    host = urlsplit(site_url).hostname or "localhost"
    is_address = host.replace(".", "").isdigit() or ":" in host
    return f"favsite <noreply@{'localhost' if is_address else host}>"

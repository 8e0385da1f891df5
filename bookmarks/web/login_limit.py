"""Password guessing limits: the login page, the admin's login page and the Pinboard API's HTTP Basic.

After ``FAILURE_LIMIT`` wrong passwords for one username from one client
address within ``WINDOW_SECONDS``, that username is locked for that address
until the window has passed; a correct password is refused too while locked
(otherwise the lock would tell a guesser when they hit it). A successful login
clears the count. One address guessing across usernames is locked for all of
them after ``ADDRESS_FAILURE_LIMIT`` wrong passwords. A guesser elsewhere
never locks the owner out: the locks are per client address.

The client address is ``REMOTE_ADDR``, or, when that is one of the
``TRUSTED_PROXIES``, the nearest address in ``X-Forwarded-For`` that is not
a trusted proxy (a header from anyone else is ignored: it could be forged).
Sign-up is limited too: ``SIGNUP_LIMIT`` accounts per address per hour, and so
are password reset requests: ``RESET_LIMIT`` per client address and
``RESET_EMAIL_LIMIT`` per e-mail address an hour (whether or not an account
has that address, so the limit tells nothing about accounts).

The counts live in Redis (``REDIS_URL``), so every web process shares them.
If Redis does not answer, nothing is limited (and a warning is logged): an
outage of the cache must not lock everybody out.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging

import redis
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from bookmarks.mail import mail_is_on

log = logging.getLogger(__name__)

FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 50
WINDOW_SECONDS = 15 * 60
SIGNUP_LIMIT = 5
SIGNUP_WINDOW_SECONDS = 60 * 60
RESET_LIMIT = 10
RESET_EMAIL_LIMIT = 3
RESET_WINDOW_SECONDS = 60 * 60
LOCKED_MESSAGE = _("Too many failed attempts for this account. Try again in 15 minutes.")

_redis: redis.Redis | None = None


def _client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _redis


def _key(*parts: str) -> str:
    # Hashed: usernames are user input of any length and character.
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    prefix = getattr(settings, "LOGIN_LIMIT_PREFIX", "favsite:login")
    return f"{prefix}:{digest}"


def _keys(username: str, address: str) -> tuple[str, str]:
    """The (username, address) count and the address's count across usernames."""
    return _key(username.casefold(), address), _key("\0address", address)


def client_address(request: HttpRequest | None) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXIES`` what they say in X-Forwarded-For."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR") or ""
    if not _trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest first: only our own proxies' entries can be trusted
        if not _trusted(hop):
            return hop
    return hops[0] if hops else remote


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in settings.TRUSTED_PROXIES)


def is_locked(username: str, address: str) -> bool:
    try:
        mine, everyone = _client().mget(_keys(username, address))
    except redis.RedisError:
        log.warning("Redis unavailable; login attempts are not limited")
        return False
    return int(mine or 0) >= FAILURE_LIMIT or int(everyone or 0) >= ADDRESS_FAILURE_LIMIT


def record_failure(username: str, address: str) -> None:
    try:
        _count(_keys(username, address), WINDOW_SECONDS)
    except redis.RedisError:
        log.warning("Redis unavailable; failed login for %r not counted", username)


def _count(keys: tuple[str, ...], window: int) -> None:
    pipe = _client().pipeline()
    for key in keys:
        pipe.incr(key)
        # The window starts at the first count and is not extended by later ones.
        pipe.expire(key, window, nx=True)
    pipe.execute()


def clear(username: str, address: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _client().delete(_keys(username, address)[0])


def signup_allowed(address: str) -> bool:
    """Whether this address may make another account now (``SIGNUP_LIMIT`` an hour)."""
    try:
        count = _client().get(_key("\0signup", address))
    except redis.RedisError:
        log.warning("Redis unavailable; sign-ups are not limited")
        return True
    return int(count or 0) < SIGNUP_LIMIT


def record_signup(address: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _count((_key("\0signup", address),), SIGNUP_WINDOW_SECONDS)


def _reset_keys(address: str, email: str) -> tuple[str, str]:
    return _key("\0reset", address), _key("\0reset-email", email.strip().casefold())


def reset_allowed(address: str, email: str) -> bool:
    """Whether a password reset mail may be asked for ``email`` from ``address`` now."""
    try:
        by_address, by_email = _client().mget(_reset_keys(address, email))
    except redis.RedisError:
        log.warning("Redis unavailable; password reset requests are not limited")
        return True
    return int(by_address or 0) < RESET_LIMIT and int(by_email or 0) < RESET_EMAIL_LIMIT


def record_reset(address: str, email: str) -> None:
    try:
        _count(_reset_keys(address, email), RESET_WINDOW_SECONDS)
    except redis.RedisError:
        log.warning("Redis unavailable; a password reset request was not counted")


def authenticate_limited(request: HttpRequest | None, username: str, password: str):
    """``authenticate()`` with the guessing limit: the user, or None when wrong or locked."""
    address = client_address(request)
    if is_locked(username, address):
        return None
    user = authenticate(request, username=username, password=password)
    if user is None:
        record_failure(username, address)
    else:
        clear(username, address)
    return user


class _Limited:
    """The guessing limit for an ``AuthenticationForm``: locked usernames are refused before the password check."""

    error_messages = {**AuthenticationForm.error_messages, "locked": LOCKED_MESSAGE}

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if is_locked(username, address):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                record_failure(username, address)
            raise
        clear(username, address)
        return cleaned


class LimitedAuthenticationForm(_Limited, AuthenticationForm):
    """The site's login form."""


class LimitedAdminAuthenticationForm(_Limited, AdminAuthenticationForm):
    """The admin's login form (``admin.site.login_form``): the same limit, so /admin/login/ is no way around it."""


class LoginView(auth_views.LoginView):
    """Django's login view with the guessing limit; a locked account answers 429."""

    form_class = LimitedAuthenticationForm

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "mail_is_on": mail_is_on()}  # "Forgot password?"

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code="locked"):
            response.status_code = 429
        return response

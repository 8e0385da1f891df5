"""Password guessing limits: the login page, the admin's login page and the Pinboard API's HTTP Basic.

After ``FAILURE_LIMIT`` wrong passwords for one username from one client
address within ``WINDOW_SECONDS``, that username is locked for that address
until the window has passed; a correct password is refused too while locked
(otherwise the lock would tell a guesser when they hit it). A successful login
clears the count.

The counts live in Redis (``REDIS_URL``), so every web process shares them.
Behind a reverse proxy every client has the proxy's address, so the limit
becomes per username, which is stricter, not weaker. If Redis does not answer,
logins are not limited (and a warning is logged): an outage of the cache must
not lock everybody out.
"""

from __future__ import annotations

import contextlib
import hashlib
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

log = logging.getLogger(__name__)

FAILURE_LIMIT = 5
WINDOW_SECONDS = 15 * 60
LOCKED_MESSAGE = _("Too many failed attempts for this account. Try again in 15 minutes.")

_redis: redis.Redis | None = None


def _client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _redis


def _key(username: str, address: str) -> str:
    # Hashed: usernames are user input of any length and character.
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()[:32]
    prefix = getattr(settings, "LOGIN_LIMIT_PREFIX", "favsite:login")
    return f"{prefix}:{digest}"


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def is_locked(username: str, address: str) -> bool:
    try:
        count = _client().get(_key(username, address))
    except redis.RedisError:
        log.warning("Redis unavailable; login attempts are not limited")
        return False
    return count is not None and int(count) >= FAILURE_LIMIT


def record_failure(username: str, address: str) -> None:
    key = _key(username, address)
    try:
        pipe = _client().pipeline()
        pipe.incr(key)
        # The window starts at the first failure and is not extended by later ones.
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        pipe.execute()
    except redis.RedisError:
        log.warning("Redis unavailable; failed login for %r not counted", username)


def clear(username: str, address: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _client().delete(_key(username, address))


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

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code="locked"):
            response.status_code = 429
        return response

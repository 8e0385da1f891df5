"""The ``--user USERNAME`` the management commands take."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def named_user(username: str | None):
    """The user called ``username``; None when no name was given. An unknown name stops the command."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user

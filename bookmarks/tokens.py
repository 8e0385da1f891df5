"""Per-user secret tokens: one for the API (REST and Pinboard), one for feed addresses."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from bookmarks.models import AccessToken


def token_for(user: AbstractBaseUser, kind: str) -> str:
    """The user's token of this kind, made on first use."""
    found = AccessToken.objects.filter(owner=user, kind=kind).values_list("key", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return AccessToken.objects.create(owner=user, kind=kind, key=_new_key()).key
    except IntegrityError:  # made meanwhile by another request
        return AccessToken.objects.get(owner=user, kind=kind).key


def regenerate(user: AbstractBaseUser, kind: str) -> str:
    """A new token; the old one stops working at once."""
    key = _new_key()
    AccessToken.objects.update_or_create(owner=user, kind=kind, defaults={"key": key})
    return key


def user_for(kind: str, key: str) -> AbstractBaseUser | None:
    """The active user owning this token, or None."""
    if not key or len(key) > 64:
        return None
    token = AccessToken.objects.select_related("owner").filter(kind=kind, key=key).first()
    if token is None or not token.owner.is_active:
        return None
    return token.owner


def _new_key() -> str:
    # Pinboard tokens are 20 upper-case hex characters; clients accept longer ones.
    return secrets.token_hex(20).upper()

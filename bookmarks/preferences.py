"""Per-person choices remembered for the chat bot and other browserless replies: language, time zone, and
whether chat confirmations wait while the person is busy."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone, translation

from bookmarks.models import Preferences


def remember(
    user: AbstractBaseUser,
    *,
    language: str | None = None,
    time_zone: str | None = None,
    hold_when_busy: bool | None = None,
) -> None:
    """Store what ``user`` chose in settings (None leaves a value as it is)."""
    changes: dict[str, str | bool] = {}
    if hold_when_busy is not None:
        changes["hold_when_busy"] = hold_when_busy
    if language is not None:
        changes["language"] = language if language in dict(settings.LANGUAGES) else ""
    if time_zone is not None:
        changes["time_zone"] = time_zone
    if changes:
        Preferences.objects.update_or_create(user=user, defaults=changes)


def holds_when_busy(user: AbstractBaseUser | None) -> bool:
    """Whether ``user``'s chat confirmations wait while their presence is "do not disturb" (the default)."""
    chosen = _chosen_by(user)
    return chosen.hold_when_busy if chosen else True


@contextmanager
def speaking_to(user: AbstractBaseUser | None) -> Iterator[None]:
    """Translate and show dates as ``user`` chose while inside: ``with speaking_to(user): reply = _(...)``."""
    chosen = _chosen_by(user)
    language = (chosen.language if chosen else "") or settings.LANGUAGE_CODE
    zone = zoneinfo.ZoneInfo(chosen.time_zone) if chosen and chosen.time_zone else None
    with translation.override(language):
        if zone is None:
            yield
        else:
            with timezone.override(zone):
                yield


def _chosen_by(user: AbstractBaseUser | None) -> Preferences | None:
    """``user``'s preferences; no query when they were read with the user (``select_related``)."""
    if user is None or not user.pk:
        return None
    descriptor = getattr(type(user), "preferences", None)
    if descriptor is not None and descriptor.is_cached(user):
        return getattr(user, "preferences", None)  # None when they have none
    return Preferences.objects.filter(user=user).first()


def chosen_language(user: AbstractBaseUser | None) -> str:
    """The language ``user`` chose in settings, or "" when they chose none."""
    chosen = _chosen_by(user)
    return chosen.language if chosen else ""

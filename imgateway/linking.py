"""Linking a chat address (JID) to an account: codes from the web, ``link CODE`` from chat."""

from __future__ import annotations

from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from slixmpp import JID
from slixmpp.jid import InvalidJID

from imgateway.models import LINK_CODE_LIFETIME, LINK_CODE_MAX_ATTEMPTS, LinkCode, LinkedJid


class LinkError(ValueError):
    """A JID that cannot be linked; the message is for the person."""


def normalize_jid(raw: str) -> str:
    """The bare JID, as slixmpp normalises it; ``LinkError`` when it is not one."""
    try:
        jid = JID(raw.strip())
    except InvalidJID as exc:
        raise LinkError(_("That is not a valid chat address (JID): %(error)s") % {"error": exc}) from None
    if not jid.user or not jid.domain:
        raise LinkError(_("A chat address looks like name@example.org."))
    return jid.bare


def start_link(user: AbstractBaseUser, raw_jid: str) -> LinkCode:
    """A fresh code for ``user`` to send from ``raw_jid`` (replacing an older one)."""
    jid = normalize_jid(raw_jid)
    owner = LinkedJid.objects.filter(jid=jid).values_list("user_id", flat=True).first()
    if owner == user.pk:
        raise LinkError(_("%(jid)s is already linked to your account.") % {"jid": jid})
    if owner is not None:
        raise LinkError(_("%(jid)s is linked to another account.") % {"jid": jid})
    now = timezone.now()
    code, _created = LinkCode.objects.update_or_create(
        user=user,
        jid=jid,
        defaults={
            "code": LinkCode.new_code(),
            "attempts": 0,
            "created_at": now,
            "expires_at": now + LINK_CODE_LIFETIME,
        },
    )
    return code


def code_waiting(bare: str) -> bool:
    """Whether a link code waits for this address (added on a settings page, not yet sent)."""
    return LinkCode.objects.filter(jid=bare, expires_at__gt=timezone.now()).exists()


def link_with_code(bare: str, typed: str) -> str:
    """Handle ``link CODE`` sent from ``bare``; returns the reply.

    Every code waiting for this JID is compared in constant time; a wrong
    code counts as a failed attempt on all of them, and a code is void after
    LINK_CODE_MAX_ATTEMPTS wrong tries or when it expires.
    """
    typed = typed.strip()
    if not typed:
        return _("Usage: link CODE (the code shown on the website after you add this address)")
    now = timezone.now()
    LinkCode.objects.filter(jid=bare, expires_at__lte=now).delete()
    candidates = list(LinkCode.objects.filter(jid=bare, attempts__lt=LINK_CODE_MAX_ATTEMPTS))
    # Compare with every candidate (no early exit), so timing says nothing.
    matches = [code for code in candidates if code.matches(typed)]
    if not matches:
        if candidates:
            LinkCode.objects.filter(pk__in=[c.pk for c in candidates]).update(attempts=F("attempts") + 1)
            LinkCode.objects.filter(jid=bare, attempts__gte=LINK_CODE_MAX_ATTEMPTS).delete()
        return _("That code is not valid for this address (wrong, used or expired). Get a new one on the website.")
    code = matches[0]
    try:
        with transaction.atomic():
            linked, _created = LinkedJid.objects.get_or_create(jid=bare, defaults={"user_id": code.user_id})
            code.delete()
    except IntegrityError:
        linked = LinkedJid.objects.get(jid=bare)
    if linked.user_id != code.user_id:
        return _("This address is already linked to another account. Unlink it there first.")
    return _("Linked to %(name)s. Send me a link to save it; send help for the commands.") % {
        "name": linked.user.get_username()
    }


def link_verified(user: AbstractBaseUser, raw_jid: str) -> LinkedJid:
    """Link without a code (operators: ``manage.py imlink``)."""
    jid = normalize_jid(raw_jid)
    linked, _created = LinkedJid.objects.get_or_create(jid=jid, defaults={"user": user})
    if linked.user_id != user.pk:
        raise LinkError(_("%(jid)s is linked to another account.") % {"jid": jid})
    LinkCode.objects.filter(jid=jid).delete()
    return linked


def unlink(user: AbstractBaseUser, jid: str) -> bool:
    deleted, _per_model = LinkedJid.objects.filter(user=user, jid=jid).delete()
    return bool(deleted)


def subscription_allowed(bare: str, roster: list[str]) -> bool:
    """Approve a presence subscription? Linked JIDs always; strangers up to ``XMPP_ROSTER_MAX_STRANGERS``.

    ``roster`` holds the bare JIDs the bot's roster has now.
    """
    if LinkedJid.objects.filter(jid=bare).exists():
        return True
    others = set(roster) - {bare}
    linked = set(LinkedJid.objects.filter(jid__in=list(others)).values_list("jid", flat=True)) if others else set()
    return len(others - linked) < settings.XMPP_ROSTER_MAX_STRANGERS


def link_uri(bot_jid: str, code: str) -> str:
    """The ``xmpp:`` URI (RFC 5122, XEP-0147) that opens a chat with the bot with ``link CODE`` typed in."""
    return f"xmpp:{quote(bot_jid, safe='@')}?message;body={quote(f'link {code}', safe='')}"


def link_qr(uri: str) -> segno.QRCode:
    """The QR code of ``uri``: a phone's camera opens the chat client with the message ready to send."""
    return segno.make(uri, error="m")


def linked_addresses() -> set[str]:
    """Every linked address (the bot asks each for its presence subscription)."""
    return set(LinkedJid.objects.values_list("jid", flat=True))

"""The bot's place in the server's message archive (XEP-0313): where catching up starts, and what is forgotten.

``imgateway.bot.catchup`` reads the archive from ``catch_up_start``;
``imgateway.bot.upkeep`` moves the mark on while the bot is online with
nothing in hand; the beat sweep forgets received message ids older than the
catch-up window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from imgateway.models import ArchiveMark, ReceivedMessage

# Catching up starts this long before the bot's archive mark: room for the
# server's clock to be behind ours, and for a connection that died unnoticed.
CATCH_UP_MARGIN = timedelta(minutes=10)


def forget_received_messages() -> int:
    """The sweep: records older than the catch-up window go (no copy of those is looked for any more)."""
    cutoff = timezone.now() - timedelta(hours=settings.XMPP_CATCH_UP_HOURS + 1)
    deleted, _by_model = ReceivedMessage.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def catch_up_start(bot_jid: str) -> datetime | None:
    """Where catching up from the archive starts: ``CATCH_UP_MARGIN`` before the bot's mark, within the window.

    Without a mark (this bot account's first session, or the first since an
    upgrade) nothing older is read: the mark is set to now. ``XMPP_CATCH_UP_HOURS``
    0 turns catching up off.
    """
    if settings.XMPP_CATCH_UP_HOURS <= 0:
        return None
    now = timezone.now()
    mark, created = ArchiveMark.objects.get_or_create(jid=bot_jid, defaults={"handled_before": now})
    if created:
        return None
    return max(now - timedelta(hours=settings.XMPP_CATCH_UP_HOURS), mark.handled_before - CATCH_UP_MARGIN)


def mark_handled_before(bot_jid: str, moment: datetime) -> None:
    """Every message archived for the bot before ``moment`` was handled (the bot was online, nothing in hand)."""
    ArchiveMark.objects.filter(jid=bot_jid, handled_before__lt=moment).update(handled_before=moment)

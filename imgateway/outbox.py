"""Confirmations from the worker to the gateway, through a Redis stream.

1. When a fetch ends for good, ``bookmark_fetched`` fires in the worker;
   ``on_bookmark_fetched`` finds the chat saves waiting for that bookmark.
2. A chat save whose bookmarks are all done is claimed with a conditional
   update (``queued_at``) and its rendered reply is added to the stream.
3. The gateway reads the stream with a consumer group, sends the message,
   marks the save ``sent_at`` and acks the entry. Entries it read but never
   acked (it crashed) are read again when it comes back.
4. The beat sweep (``imgateway.tasks.resend_confirmations``) adds again any
   save queued long ago but never sent, and any complete save never queued.
A confirmation is sent once: the gateway skips entries whose save is sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookmarks.models import Bookmark
from imgateway.handling import fresh_connection, redis_client
from imgateway.models import ChatSave, ChatSaveItem

log = logging.getLogger(__name__)

GROUP = "gateway"
STREAM_MAXLEN = 100_000
RESEND_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=1)


def stream_name() -> str:
    return f"{settings.XMPP_REDIS_PREFIX}:outbox"


def on_bookmark_fetched(sender: object, bookmark: Bookmark, **kwargs: object) -> None:
    """Receiver of ``bookmarks.signals.bookmark_fetched`` (connected in apps.ready)."""
    if bookmark.source != Bookmark.Source.IM:
        return
    save_ids = set(
        ChatSaveItem.objects.filter(bookmark_id=bookmark.pk, chat_save__queued_at__isnull=True).values_list(
            "chat_save_id", flat=True
        )
    )
    for save_id in save_ids:
        try:
            queue_if_complete(save_id)
        except redis.RedisError:
            # The sweep queues it later: the row is the durable record.
            log.warning("could not queue confirmation %s", save_id, exc_info=True)


def queue_if_complete(save_id: int, *, again: bool = False) -> bool:
    """Put the confirmation of chat save ``save_id`` on the stream once all its fetches ended."""
    if ChatSaveItem.objects.filter(chat_save_id=save_id, bookmark__status=Bookmark.Status.PENDING).exists():
        return False
    claim = ChatSave.objects.filter(pk=save_id, sent_at__isnull=True)
    if not again:
        claim = claim.filter(queued_at__isnull=True)
    if claim.update(queued_at=timezone.now()) != 1:
        return False  # someone else queued it, or it was sent
    chat_save = ChatSave.objects.get(pk=save_id)
    redis_client().xadd(
        stream_name(),
        {"save": str(chat_save.pk), "to": chat_save.jid, "body": render(chat_save)},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )
    return True


def render(chat_save: ChatSave) -> str:
    """``Saved: <title>`` and the URL for each new bookmark, then the other lines."""
    lines = []
    with translation.override(settings.LANGUAGE_CODE):
        for item in chat_save.items.select_related("bookmark"):
            bookmark = item.bookmark
            if bookmark is None:
                lines.append(_("Saved, then deleted: %(url)s") % {"url": item.url})
            elif bookmark.status == Bookmark.Status.OK or bookmark.title:
                lines.append(_("Saved: %(title)s\n%(url)s") % {"title": bookmark.display_title, "url": bookmark.url})
            else:
                reason = bookmark.fetch_error or _("the page gave no title")
                lines.append(
                    _("Saved without a title (%(reason)s):\n%(url)s") % {"reason": reason, "url": bookmark.url}
                )
        lines.extend(chat_save.lines or [])
    return "\n".join(lines)


def mark_sent(save_id: int) -> bool:
    """Record that the confirmation went out; False when it already had."""
    fresh_connection()
    return ChatSave.objects.filter(pk=save_id, sent_at__isnull=True).update(sent_at=timezone.now()) == 1


def already_sent(save_id: int) -> bool:
    fresh_connection()
    return ChatSave.objects.filter(pk=save_id, sent_at__isnull=False).exists() or not (
        ChatSave.objects.filter(pk=save_id).exists()
    )


def resend_unsent() -> int:
    """The sweep: queue again what was never sent. Returns how many were queued."""
    now = timezone.now()
    unsent = ChatSave.objects.filter(sent_at__isnull=True, created_at__gte=now - GIVE_UP_AFTER)
    count = 0
    for save_id in unsent.filter(queued_at__isnull=True).values_list("pk", flat=True):
        count += queue_if_complete(save_id)
    for save_id in unsent.filter(queued_at__lt=now - RESEND_AFTER).values_list("pk", flat=True):
        count += queue_if_complete(save_id, again=True)
    return count

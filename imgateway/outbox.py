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
from django.utils import timezone
from django.utils.translation import gettext as _

from bookmarks.models import Bookmark
from bookmarks.preferences import speaking_to
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
    """Receiver of ``bookmarks.signals.bookmark_fetched`` (connected in apps.ready).

    One query reads every item of the unqueued chat saves holding this
    bookmark, with their bookmarks: that says which saves are complete and
    is all their confirmation needs. This runs after the fetch committed, so
    of two items of one save finishing at once, the later reader sees both done.
    """
    if bookmark.source != Bookmark.Source.IM:
        return
    waiting = ChatSaveItem.objects.filter(bookmark_id=bookmark.pk, chat_save__queued_at__isnull=True)
    saves: dict[int, list[ChatSaveItem]] = {}
    for item in ChatSaveItem.objects.filter(chat_save_id__in=waiting.values("chat_save_id")).select_related(
        "bookmark", "chat_save__user__preferences"
    ):
        saves.setdefault(item.chat_save_id, []).append(item)
    for items in saves.values():
        if any(item.bookmark is not None and item.bookmark.status == Bookmark.Status.PENDING for item in items):
            continue
        try:
            _queue(items[0].chat_save, items, again=False)
        except redis.RedisError:
            # The sweep queues it later: the row is the durable record.
            log.warning("could not queue confirmation %s", items[0].chat_save_id, exc_info=True)


def queue_if_complete(save_id: int, *, again: bool = False) -> bool:
    """Put the confirmation of chat save ``save_id`` on the stream once all its fetches ended."""
    if ChatSaveItem.objects.filter(chat_save_id=save_id, bookmark__status=Bookmark.Status.PENDING).exists():
        return False
    chat_save = ChatSave.objects.filter(pk=save_id).select_related("user__preferences").first()
    return chat_save is not None and _queue(chat_save, None, again=again)


def _queue(chat_save: ChatSave, items: list[ChatSaveItem] | None, *, again: bool) -> bool:
    """Claim the confirmation (``queued_at``, a conditional update) and add it to the stream."""
    claim = ChatSave.objects.filter(pk=chat_save.pk, sent_at__isnull=True)
    if not again:
        claim = claim.filter(queued_at__isnull=True)
    if claim.update(queued_at=timezone.now()) != 1:
        return False  # someone else queued it, or it was sent
    redis_client().xadd(
        stream_name(),
        {"save": str(chat_save.pk), "to": chat_save.jid, "body": render(chat_save, items)},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )
    return True


def render(chat_save: ChatSave, items: list[ChatSaveItem] | None = None) -> str:
    """``Saved: <title>`` and the URL for each new bookmark, then the other lines.

    ``items``: the save's items with their bookmarks, when the caller has them.
    """
    if items is None:
        items = list(chat_save.items.select_related("bookmark"))
    lines = []
    with speaking_to(chat_save.user):  # their language, whenever the confirmation is written
        for item in sorted(items, key=lambda item: (item.position, item.pk)):
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
    return mark_sent_many([save_id]) == 1


def mark_sent_many(save_ids: list[int]) -> int:
    """Record that these confirmations went out; how many were not marked before."""
    fresh_connection()
    return ChatSave.objects.filter(pk__in=save_ids, sent_at__isnull=True).update(sent_at=timezone.now())


def already_sent(save_id: int) -> bool:
    return save_id not in unsent([save_id])


def unsent(save_ids: list[int]) -> set[int]:
    """The chat saves among ``save_ids`` whose confirmation was not sent (gone ones are left out)."""
    fresh_connection()
    return set(ChatSave.objects.filter(pk__in=save_ids, sent_at__isnull=True).values_list("pk", flat=True))


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

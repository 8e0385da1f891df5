"""Confirmations of chat saves: one ``Saved: <title>`` reply per message, once all its links are fetched.

1. When a fetch of a link saved from chat ends for good, the worker names
   its bookmark on the stream of finished fetches, after the result
   committed (``bookmarks.fetching.finished``).
2. The gateway reads that stream with a consumer group (``imgateway.bot.outbox``)
   and asks ``due`` which chat saves those bookmarks complete: saves not yet
   sent none of whose links is still pending. It sends each reply, records
   it (``mark_sent``) and then acknowledges the entries.
3. The beat sweep (``resend_unsent``) names again, on the same stream, every
   complete save left unsent (its entry lost with Redis, or read by a
   gateway that died before sending): once every ``RESEND_AFTER``, for a day.
A confirmation is sent once: ``due`` leaves out the saves marked sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookmarks.fetching import finished
from bookmarks.fetching.reasons import describe as describe_fetch_error
from bookmarks.models import Bookmark
from bookmarks.preferences import holds_when_busy, speaking_to
from imgateway.messages import fresh_connection
from imgateway.models import ChatSave, ChatSaveItem

# Short, so a confirmation lost with Redis goes out soon after it is back; a save named again while its
# first entry is still on its way costs nothing more: ``due`` leaves out the saves marked sent.
RESEND_AFTER = timedelta(seconds=20)
# A confirmation's message id names its save, so a gateway reading the bot's archive (``catchup``) can tell
# which confirmations went out although their sending was never recorded (the gateway died in between).
MESSAGE_ID_PREFIX = "favsite-save-"
GIVE_UP_AFTER = timedelta(days=1)
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class Confirmation:
    save_id: int
    to: str  # the full JID that sent the links
    body: str
    hold_when_busy: bool = True  # its owner's choice: wait while they are "do not disturb" (``imgateway.busy``)


def due(bookmark_ids: list[int], save_ids: list[int] = ()) -> list[Confirmation]:
    """The confirmations these finished bookmarks (or these saves) complete and that were not sent yet."""
    fresh_connection()
    created = ChatSaveItem.objects.filter(created=True)
    holding = set(created.filter(bookmark_id__in=bookmark_ids).values_list("chat_save_id", flat=True))
    saves = (
        ChatSave.objects.filter(pk__in=holding | set(save_ids), sent_at__isnull=True, held_at__isnull=True)
        .select_related("user__preferences")
        .prefetch_related(Prefetch("items", queryset=created.select_related("bookmark"), to_attr="created_items"))
        .order_by("created_at", "id")
    )
    confirmations = []
    for chat_save in saves:
        items = chat_save.created_items
        if not any(item.bookmark is not None and item.bookmark.status == Bookmark.Status.PENDING for item in items):
            body = render(chat_save, items)
            confirmations.append(Confirmation(chat_save.pk, chat_save.jid, body, holds_when_busy(chat_save.user)))
    return confirmations


def render(chat_save: ChatSave, items: list[ChatSaveItem]) -> str:
    """``Saved: <title>`` and the URL of each bookmark created, then the message's other lines, in its owner's
    language."""
    lines = []
    with speaking_to(chat_save.user):
        for item in sorted(items, key=lambda item: (item.position, item.pk)):
            bookmark = item.bookmark
            if bookmark is None:
                lines.append(_("Saved, then deleted: %(url)s") % {"url": item.url})
            elif bookmark.status == Bookmark.Status.OK or bookmark.title:
                lines.append(_("Saved: %(title)s\n%(url)s") % {"title": bookmark.display_title, "url": bookmark.url})
            else:
                reason = describe_fetch_error(bookmark.fetch_error) or _("the page gave no title")
                lines.append(
                    _("Saved without a title (%(reason)s):\n%(url)s") % {"reason": reason, "url": bookmark.url}
                )
        lines.extend(chat_save.lines or [])
    return "\n".join(lines)


def message_id(save_id: int) -> str:
    return f"{MESSAGE_ID_PREFIX}{save_id}"


def save_id_of(message_id: str) -> int | None:
    """The save a confirmation's message id names, or None for any other message."""
    number = message_id.removeprefix(MESSAGE_ID_PREFIX) if message_id.startswith(MESSAGE_ID_PREFIX) else ""
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 18 else None


def mark_sent(save_ids: list[int]) -> int:
    """Record that these confirmations went out; how many were not marked before."""
    fresh_connection()
    return ChatSave.objects.filter(pk__in=save_ids, sent_at__isnull=True).update(sent_at=timezone.now())


def resend_unsent() -> int:
    """The sweep: name again on the stream each complete save never sent; how many were named."""
    now = timezone.now()
    unsent = ChatSave.objects.filter(
        sent_at__isnull=True,
        held_at__isnull=True,  # waiting for a digest (``imgateway.busy``)
        created_at__gte=now - GIVE_UP_AFTER,
        created_at__lt=now - RESEND_AFTER,
    ).filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - RESEND_AFTER))
    still_fetching = ChatSaveItem.objects.filter(created=True, bookmark__status=Bookmark.Status.PENDING)
    complete = unsent.exclude(pk__in=still_fetching.values("chat_save_id")).order_by("created_at")
    named = 0
    for save_id in complete.values_list("pk", flat=True)[:SWEEP_BATCH]:
        if unsent.filter(pk=save_id).update(queued_at=now):  # a second sweep running at once skips it
            finished.announce([], chat_save=save_id)
            named += 1
    return named

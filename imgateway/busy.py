"""Do not disturb: confirmations wait while a person is busy, then come as one digest.

The bot subscribes to the presence of linked addresses. While every
connected resource of one shows "dnd", a confirmation that comes due for it
is held (``hold``: ``ChatSave.held_at``) instead of sent, unless its owner
turned holding off in /settings/im/. When the address leaves "dnd"
(available, chat, away, extended away, or offline: the server keeps a
message for an offline person), ``digest`` gathers what was held into one
message: "Saved 3 links while you were busy:", the titles and their links,
at most ten, then a link to the list. Held saves are in the database, so a
gateway that restarts meanwhile sends the digest when it sees the address
is no longer busy (``held_addresses``, read at every session start).
While away or offline, confirmations go out one by one as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import ngettext

from bookmarks.preferences import speaking_to
from imgateway.messages import fresh_connection
from imgateway.models import ChatSave, ChatSaveItem

DIGEST_TITLES = 10  # titles named in a digest; the rest are on the list


@dataclass(frozen=True)
class Digest:
    save_ids: list[int]
    to: str  # the bare JID: the server routes it to the resource the person uses now
    body: str


def hold(save_ids: list[int]) -> None:
    """These complete confirmations wait for the digest."""
    fresh_connection()
    ChatSave.objects.filter(pk__in=save_ids, sent_at__isnull=True).update(held_at=timezone.now())


def held_addresses() -> set[str]:
    """The bare JIDs that have confirmations waiting for a digest."""
    fresh_connection()
    return set(_held().values_list("bare_jid", flat=True).distinct())


def _held():
    return ChatSave.objects.filter(held_at__isnull=False, sent_at__isnull=True)


def digest(bare: str) -> Digest | None:
    """The one message that replaces the confirmations held for ``bare``, in its owner's language; None if none."""
    fresh_connection()
    created = ChatSaveItem.objects.filter(created=True).exclude(bookmark=None).select_related("bookmark")
    saves = list(
        _held()
        .filter(bare_jid=bare)
        .select_related("user__preferences")
        .prefetch_related(Prefetch("items", queryset=created, to_attr="created_items"))
        .order_by("created_at", "id")
    )
    if not saves:
        return None
    bookmarks = [item.bookmark for chat_save in saves for item in chat_save.created_items]
    with speaking_to(saves[-1].user):
        lines = [
            ngettext("Saved %(n)d link while you were busy:", "Saved %(n)d links while you were busy:", len(bookmarks))
            % {"n": len(bookmarks)}
        ]
        lines += [f"• {bookmark.display_title}\n  {bookmark.url}" for bookmark in bookmarks[:DIGEST_TITLES]]
        if len(bookmarks) > DIGEST_TITLES:
            more = len(bookmarks) - DIGEST_TITLES
            lines.append(
                ngettext("and %(n)d more: %(url)s", "and %(n)d more: %(url)s", more)
                % {"n": more, "url": f"{settings.SITE_URL}/bookmarks/"}
            )
        lines += [line for chat_save in saves for line in chat_save.lines or []]
    return Digest([chat_save.pk for chat_save in saves], bare, "\n".join(lines))

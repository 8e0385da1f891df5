"""Saving the links of chat messages through ``bookmarks.services``, with the record their confirmation needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookmarks import services
from bookmarks.models import Bookmark
from bookmarks.preferences import speaking_to
from imgateway.incoming import Incoming
from imgateway.models import ChatSave, ChatSaveItem
from imgateway.parsing import Save


class MessageIds(NamedTuple):
    """How a correction (its ``id``) or a retraction (its origin id) names the message."""

    message_id: str
    origin_id: str


@dataclass
class SavePlan:
    """A chat message's links, checked and keyed before any transaction (``plan_save``).

    ``entries`` follow the links' order: a prepared save, or the line that
    says why a link was not saved; ``trailing`` are the lines after them.
    """

    user: AbstractBaseUser
    bare: str
    sender: str  # the full JID: the confirmation goes to the resource that sent the links
    ids: MessageIds
    tags: list[str]
    note: str
    entries: list[services.PreparedSave | str]
    trailing: list[str]


def plan_save(user: AbstractBaseUser, bare: str, incoming: Incoming, parsed: Save) -> SavePlan:
    """Everything a save works out without the database, in the sender's language (the caller's)."""
    entries: list[services.PreparedSave | str] = []
    for url in parsed.urls:
        try:
            entries.append(
                services.prepare_save(
                    user,
                    url,
                    tags=parsed.tags,
                    note=parsed.note,
                    source=Bookmark.Source.IM,
                    # "!later": unread, also a link saved before; without it, a known link keeps its state.
                    unread=True if parsed.later else None,
                )
            )
        except services.InvalidURL as exc:
            entries.append(_("Not saved: %(url)s (%(reason)s)") % {"url": url, "reason": exc})
    trailing = [_("Not saved: %(url)s (only http:// and https:// links)") % {"url": piece} for piece in parsed.refused]
    trailing += [
        ngettext(
            "Not saved: %(url)s (at most %(n)d link per message)",
            "Not saved: %(url)s (at most %(n)d links per message)",
            len(parsed.urls),
        )
        % {"url": url, "n": len(parsed.urls)}
        for url in parsed.over_limit
    ]
    if parsed.later and any(not isinstance(entry, str) for entry in entries):
        trailing.append(_("Marked to read later."))
    ids = MessageIds(incoming.message_id[:200], incoming.origin_id[:200])
    # As the bookmarks get them (a message may hold anything, a NUL byte included).
    tags, note = services.parse_tags(parsed.tags), services.clean_text(parsed.note)[: services.NOTE_MAX_LENGTH]
    if len(tags) > services.max_tags():
        limit = services.max_tags()
        trailing.append(
            ngettext(
                "Kept the first %(limit)d tag of %(count)d: a bookmark holds at most %(limit)d.",
                "Kept the first %(limit)d tags of %(count)d: a bookmark holds at most %(limit)d.",
                limit,
            )
            % {"limit": limit, "count": len(tags)}
        )
        tags = tags[:limit]
    return SavePlan(user, bare, incoming.sender, ids, tags, note, entries, trailing)


def save_messages(plans: list[SavePlan]) -> list[str | None]:
    """Save the links of these messages together: for each, its answer now, or None when a confirmation follows.

    All their links go to ``services.save_prepared`` in one call, then each
    message that saved a link gets a ``ChatSave`` record (an item per link,
    created or saved again) in the same transaction, so a fetch (queued on
    commit) always finds the record its confirmation needs, and a correction
    or retraction finds what the message saved. A message whose links were
    all known already is answered at once ("already saved"), with what was
    refused.
    """
    answers: list[str | None] = []
    with transaction.atomic():
        prepared = [entry for plan in plans for entry in plan.entries if not isinstance(entry, str)]
        results = iter(services.save_prepared(prepared))
        records: list[tuple[ChatSave, list[services.SaveResult]]] = []
        for plan in plans:
            lines: list[str] = []
            saved: list[services.SaveResult] = []
            with speaking_to(plan.user):
                for entry in plan.entries:
                    if isinstance(entry, str):
                        lines.append(entry)
                        continue
                    result = next(results)
                    saved.append(result)
                    if not result.created:
                        lines.append(already_saved_line(result.bookmark, result.first_saved_at, result.refetching))
                lines += plan.trailing
                awaiting = any(result.created for result in saved)
                answers.append(None if awaiting else "\n".join(lines) or _("Nothing to save."))
            if saved:
                records.append((_record_of(plan, lines, answered=not awaiting), saved))
        record_saves(records)
    return answers


def _record_of(plan: SavePlan, lines: list[str], *, answered: bool) -> ChatSave:
    return ChatSave(
        user=plan.user,
        jid=plan.sender,
        bare_jid=plan.bare,
        message_id=plan.ids.message_id,
        origin_id=plan.ids.origin_id,
        tags=plan.tags,
        note=plan.note,
        lines=lines,
        sent_at=timezone.now() if answered else None,  # answered now: no confirmation follows
    )


def record_saves(records: list[tuple[ChatSave, list[services.SaveResult]]], first_position: int = 0) -> None:
    """Write the chat records (unsaved ones) and an item for each link they saved, in order."""
    if records:
        ChatSave.objects.bulk_create([record for record, _saved in records if record.pk is None])
        ChatSaveItem.objects.bulk_create(
            ChatSaveItem(
                chat_save=record,
                bookmark=result.bookmark,
                url=result.bookmark.url,
                position=first_position + position,
                created=result.created,
            )
            for record, saved in records
            for position, result in enumerate(saved)
        )


def already_saved_line(bookmark: Bookmark, first_saved_at, refetching: bool = False) -> str:
    when = formats.date_format(timezone.localtime(first_saved_at), "Y-m-d")
    line = _("Already saved on %(date)s: %(title)s\n%(url)s") % {
        "date": when,
        "title": bookmark.display_title,
        "url": bookmark.url,
    }
    # Its fetch had failed: sending it again fetches it again (the list shows the title when it comes).
    return line + "\n" + _("Fetching its title again.") if refetching else line

"""Saving the links of chat messages through ``bookmarks.services``, with the record their confirmation needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from bookmarks import services
from bookmarks.models import Bookmark
from bookmarks.preferences import speaking_to
from imgateway.models import ChatSave, ChatSaveItem
from imgateway.parsing import Save


@dataclass
class SavePlan:
    """A chat message's links, checked and keyed before any transaction (``plan_save``).

    ``entries`` follow the links' order: a prepared save, or the line that
    says why a link was not saved; ``trailing`` are the lines after them.
    """

    user: AbstractBaseUser
    bare: str
    sender: str  # the full JID: the confirmation goes to the resource that sent the links
    message_id: str
    entries: list[services.PreparedSave | str]
    trailing: list[str]


def plan_save(user: AbstractBaseUser, bare: str, sender: str, message_id: str, parsed: Save) -> SavePlan:
    """Everything a save works out without the database, in the sender's language (the caller's)."""
    entries: list[services.PreparedSave | str] = []
    for url in parsed.urls:
        try:
            entries.append(
                services.prepare_save(user, url, tags=parsed.tags, note=parsed.note, source=Bookmark.Source.IM)
            )
        except services.InvalidURL as exc:
            entries.append(_("Not saved: %(url)s (%(reason)s)") % {"url": url, "reason": exc})
    trailing = [_("Not saved: %(url)s (only http:// and https:// links)") % {"url": piece} for piece in parsed.refused]
    trailing += [
        _("Not saved: %(url)s (at most %(n)d links per message)") % {"url": url, "n": len(parsed.urls)}
        for url in parsed.over_limit
    ]
    return SavePlan(user, bare, sender, message_id, entries, trailing)


def save_messages(plans: list[SavePlan]) -> list[str | None]:
    """Save the links of these messages together: for each, its answer now, or None when a confirmation follows.

    All their links go to ``services.save_prepared`` in one call, then the
    messages that saved new bookmarks get a ``ChatSave`` record (with an item
    per new bookmark) in the same transaction, so a fetch (queued on commit)
    always finds the record its confirmation needs. Links the person had
    already are answered at once ("already saved"), with what was refused.
    """
    answers: list[str | None] = []
    with transaction.atomic():
        prepared = [entry for plan in plans for entry in plan.entries if not isinstance(entry, str)]
        results = iter(services.save_prepared(prepared))
        records: list[tuple[ChatSave, list[Bookmark]]] = []
        for plan in plans:
            lines: list[str] = []
            created: list[Bookmark] = []
            with speaking_to(plan.user):
                for entry in plan.entries:
                    if isinstance(entry, str):
                        lines.append(entry)
                        continue
                    result = next(results)
                    if result.created:
                        created.append(result.bookmark)
                    else:
                        lines.append(already_saved_line(result.bookmark, result.first_saved_at))
                lines += plan.trailing
                if created:
                    record = ChatSave(
                        user=plan.user,
                        jid=plan.sender,
                        bare_jid=plan.bare,
                        message_id=plan.message_id[:200],
                        lines=lines,
                    )
                    records.append((record, created))
                    answers.append(None)
                else:
                    answers.append("\n".join(lines) or _("Nothing to save."))
        _record(records)
    return answers


def _record(records: list[tuple[ChatSave, list[Bookmark]]]) -> None:
    if records:
        ChatSave.objects.bulk_create([record for record, _created in records])
        ChatSaveItem.objects.bulk_create(
            ChatSaveItem(chat_save=record, bookmark=bookmark, url=bookmark.url, position=position)
            for record, created in records
            for position, bookmark in enumerate(created)
        )


def already_saved_line(bookmark: Bookmark, first_saved_at) -> str:
    when = formats.date_format(timezone.localtime(first_saved_at), "Y-m-d")
    return _("Already saved on %(date)s: %(title)s\n%(url)s") % {
        "date": when,
        "title": bookmark.display_title,
        "url": bookmark.url,
    }

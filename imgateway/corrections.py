"""Edits (XEP-0308) and retractions (XEP-0424) of a chat message: they act on what that message saved.

Every message that saved a link has a ``ChatSave`` (its ``id`` and origin
id, its tags and note) with an item per link, marked ``created`` when the
message created the bookmark rather than saving one again. Both are looked
up among the sender's own messages (their account and bare JID), in the
database, so they work after the gateway restarts.

- A correction is compared with what the message saved: a link no longer in
  it goes (its bookmark is deleted if the message created it), a new link is
  saved, a changed note replaces the old one in each bookmark's note, added
  tags are added, and removed tags come off the bookmarks the message
  created (a bookmark saved before may have had them already). A correction
  of a message that saved nothing is handled as a new message.
- A retraction deletes the bookmarks the message created and leaves those it
  only saved again.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from bookmarks import services
from bookmarks.models import Bookmark
from imgateway import commands, saving
from imgateway.incoming import Incoming
from imgateway.models import ChatSave, ChatSaveItem
from imgateway.parsing import Command, Save


def find_saved(user: AbstractBaseUser, bare: str, message_id: str) -> ChatSave | None:
    """The record of the sender's message with this id (its ``id`` or its origin id), if it saved anything."""
    if not message_id:
        return None
    mine = ChatSave.objects.filter(user=user, bare_jid=bare)
    return mine.filter(Q(message_id=message_id) | Q(origin_id=message_id)).order_by("-created_at", "-pk").first()


def retract(user: AbstractBaseUser, bare: str, message_id: str) -> str | None:
    """Delete what the retracted message created: the reply, or None when it saved nothing (nothing to say)."""
    record = find_saved(user, bare, message_id)
    if record is None:
        return None
    items = list(record.items.select_related("bookmark").exclude(bookmark=None))
    lines = [commands.removed_line(item.bookmark) for item in items if item.created]
    lines += [_kept_line(item.bookmark) for item in items if not item.created]
    services.delete_bookmarks(user, [item.bookmark_id for item in items if item.created])
    record.delete()  # its confirmation, if not sent yet, goes with it
    return "\n".join(lines) or _("Nothing to remove: what that message saved was deleted already.")


def correct(user: AbstractBaseUser, bare: str, incoming: Incoming, parsed: Command | Save) -> str | None:
    """Apply a correction: what changed (or None when a confirmation of its new links follows, see below)."""
    record = find_saved(user, bare, incoming.replaces)
    if record is None:  # the corrected message saved nothing (or was handled before we knew it): a new message
        if isinstance(parsed, Save):
            return saving.save_messages([saving.plan_save(user, bare, incoming, parsed)])[0]
        return commands.run(user, bare, parsed)
    if isinstance(parsed, Command):  # no link left in it
        parsed = Save(urls=[], tags=[], note="")
    plan = saving.plan_save(user, bare, incoming, parsed)
    wanted = [entry for entry in plan.entries if not isinstance(entry, str)]
    items = list(record.items.select_related("bookmark").exclude(bookmark=None))
    lines = _drop_removed(user, items, {save.bookmark.url_hash for save in wanted})
    kept = [item for item in items if item.pk is not None]
    lines += _save_added(record, items, wanted)
    lines += _change_tags(user, record, kept, plan.tags)
    lines += _change_note(record, kept, plan.note)
    if parsed.later:  # the plan's trailing lines say so
        services.mark_unread(user, [item.bookmark_id for item in kept], unread=True)
    lines += [entry for entry in plan.entries if isinstance(entry, str)] + plan.trailing
    record.tags, record.note = plan.tags, plan.note
    record.save(update_fields=["tags", "note"])
    return "\n".join(lines) or _("Nothing to change: the corrected message saves the same links, tags and note.")


def _drop_removed(user: AbstractBaseUser, items: list[ChatSaveItem], wanted: set[str]) -> list[str]:
    """Links no longer in the message: a bookmark it created is deleted; its item goes either way."""
    gone = [item for item in items if item.bookmark.url_hash not in wanted]
    lines = [commands.removed_line(item.bookmark) if item.created else _kept_line(item.bookmark) for item in gone]
    services.delete_bookmarks(user, [item.bookmark_id for item in gone if item.created])
    ChatSaveItem.objects.filter(pk__in=[item.pk for item in gone]).delete()
    for item in gone:
        item.pk = None
    return lines


def _save_added(record: ChatSave, items: list[ChatSaveItem], wanted: list[services.PreparedSave]) -> list[str]:
    known = {item.bookmark.url_hash for item in items}
    added = [save for save in wanted if save.bookmark.url_hash not in known]
    if not added:
        return []
    results = services.save_prepared(added)
    last = record.items.aggregate(last=Max("position"))["last"]
    saving.record_saves([(record, results)], first_position=0 if last is None else last + 1)
    return [
        _("Added: %(url)s") % {"url": result.bookmark.url}
        if result.created
        else saving.already_saved_line(result.bookmark, result.first_saved_at)
        for result in results
    ]


def _change_tags(user: AbstractBaseUser, record: ChatSave, kept: list[ChatSaveItem], tags: list[str]) -> list[str]:
    old = {name.lower(): name for name in services.parse_tags(record.tags)}
    new = {name.lower(): name for name in services.parse_tags(tags)}
    if old.keys() == new.keys() or not kept:
        return []
    added = [name for key, name in new.items() if key not in old]
    removed = [name for key, name in old.items() if key not in new]
    services.tag_bookmarks(user, [item.bookmark_id for item in kept], added)
    services.untag_bookmarks(user, [item.bookmark_id for item in kept if item.created], removed)
    if not new:
        return [_("Tags removed.")]
    return [_("Tags now: %(tags)s") % {"tags": " ".join(f"#{name}" for name in new.values())}]


def _change_note(record: ChatSave, kept: list[ChatSaveItem], note: str) -> list[str]:
    if note == record.note or not kept:
        return []
    services.replace_note([item.bookmark for item in kept], record.note, note)
    return [_("Note now: %(note)s") % {"note": note}] if note else [_("Note removed.")]


def _kept_line(bookmark: Bookmark) -> str:
    return _("Kept (saved before that message): %(title)s\n%(url)s") % {
        "title": bookmark.display_title,
        "url": bookmark.url,
    }

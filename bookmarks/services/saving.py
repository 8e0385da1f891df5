"""Saving links: a new URL becomes a pending bookmark, a known one is updated (re-saving rules)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bookmarks.models import Bookmark
from bookmarks.normalize import clean_url, normalize_url, url_hash
from bookmarks.services.changes import mark_changed
from bookmarks.services.fetches import queue_fetches
from bookmarks.services.tagging import add_tags, get_or_create_tags, max_tags, parse_tags
from bookmarks.services.text import clean_text

NOTE_MAX_LENGTH = 10_000
TITLE_MAX_LENGTH = 500
_BLANK_RUN_RE = re.compile(r"\n\s*\n(\s*\n)+")  # left where a note was taken out
# Tries of the read-then-insert step when concurrent saves keep inserting the same URLs first.
_INSERT_TRIES = 3


class DuplicateURL(ValueError):
    """Editing a bookmark's URL to one the owner already has."""

    def __init__(self, existing: Bookmark):
        super().__init__("You already have a bookmark for this link.")
        self.existing = existing


@dataclass(frozen=True)
class SaveResult:
    bookmark: Bookmark
    created: bool
    # When it was first saved, for "already saved on ..." replies.
    first_saved_at: datetime
    # A re-save of a bookmark whose fetch had failed: fetched again (after the commit).
    refetching: bool = False


@dataclass
class PreparedSave:
    """A checked save, not written yet (``prepare_save``); ``bookmark`` is the row a new URL becomes."""

    bookmark: Bookmark
    tag_names: list[str]
    is_private: bool | None
    unread: bool | None

    @property
    def key(self) -> tuple[int, str]:
        return self.bookmark.owner_id, self.bookmark.url_hash


def save_url(user: AbstractBaseUser, url: str, **options: Any) -> SaveResult:
    """Save ``url`` for ``user``; re-saving a URL they have updates that bookmark.

    ``InvalidURL`` (with a readable message) for a URL that cannot be saved.
    ``options``: those of ``prepare_save`` (title, tags, note, source,
    added_at, is_private, unread).
    """
    return save_prepared([prepare_save(user, url, **options)])[0]


def prepare_save(
    user: AbstractBaseUser,
    url: str,
    *,
    title: str = "",
    tags: str | Iterable[str] = (),
    note: str = "",
    source: str = Bookmark.Source.WEB,
    added_at: datetime | None = None,
    is_private: bool | None = None,
    unread: bool | None = None,
) -> PreparedSave:
    """Check and key ``url`` without touching the database (``InvalidURL``); ``save_prepared`` writes it."""
    url = clean_url(url)
    key = normalize_url(url)
    when = added_at or timezone.now()
    bookmark = Bookmark(
        owner=user,
        url=url,
        normalized_url=key,
        url_hash=url_hash(key),
        title=clean_text(title)[:TITLE_MAX_LENGTH],
        note=clean_text(note)[:NOTE_MAX_LENGTH],
        source=source,
        created_at=when,
        added_at=when,
        is_private=bool(is_private),
        unread=bool(unread),
    )
    # The callers word a refusal (web, APIs) or keep the first ones and say so (chat); this is the backstop.
    return PreparedSave(bookmark, parse_tags(tags)[: max_tags()], is_private, unread)


def save_prepared(saves: list[PreparedSave]) -> list[SaveResult]:
    """Write prepared saves, in order, as ``save_url`` would one by one; a result for each.

    1. One query finds (and locks) the bookmarks the owners already have.
    2. The first save of each URL nobody has is inserted, all in one
       ``bulk_create``; if a concurrent save inserted one of them meanwhile
       (the unique key refuses it), the two steps run again.
    3. Every other save is a re-save of a known bookmark (``merge_resave``).
    4. Tags are added, and the new bookmarks' fetches queued for after the commit.
    Runs in the caller's transaction when there is one (the gateway saves a
    batch of chat messages in one), else in its own.
    """
    with transaction.atomic():
        known, inserted = _insert_new(saves)
        results, refetched = [], []
        for save in saves:
            bookmark = known[save.key]
            if bookmark is save.bookmark:
                results.append(SaveResult(bookmark, created=True, first_saved_at=bookmark.created_at))
                continue
            refetching = _resave(bookmark, save)
            if refetching:
                refetched.append(bookmark.pk)
            results.append(SaveResult(bookmark, False, bookmark.created_at, refetching=refetching))
        add_tags((result.bookmark, save.tag_names) for result, save in zip(results, saves, strict=True))
        queue_fetches([bookmark.pk for bookmark in inserted] + refetched)
        mark_changed(save.bookmark.owner_id for save in saves)
    return results


def _insert_new(saves: list[PreparedSave]) -> tuple[dict[tuple[int, str], Bookmark], list[Bookmark]]:
    """The bookmark each save's URL is (known before, or inserted now by its first save), and those inserted."""
    for _try in range(_INSERT_TRIES):
        known = {(b.owner_id, b.url_hash): b for b in _existing(saves)}
        new: dict[tuple[int, str], Bookmark] = {}
        for save in saves:
            if save.key not in known and save.key not in new:
                new[save.key] = save.bookmark
        if not new:
            return known, []
        for bookmark in new.values():
            bookmark.pk = None  # from an insert a rolled-back transaction undid (the caller tries again)
        try:
            with transaction.atomic():
                Bookmark.objects.bulk_create(list(new.values()))
        except IntegrityError:  # a concurrent save inserted one of these URLs: look again
            continue
        return known | new, list(new.values())
    raise IntegrityError("could not save these links: concurrent saves kept inserting them first")


def _existing(saves: list[PreparedSave]) -> list[Bookmark]:
    wanted = Q()
    hashes_by_owner: dict[int, set[str]] = {}
    for save in saves:
        hashes_by_owner.setdefault(save.bookmark.owner_id, set()).add(save.bookmark.url_hash)
    for owner_id, hashes in hashes_by_owner.items():
        wanted |= Q(owner_id=owner_id, url_hash__in=sorted(hashes))
    return list(Bookmark.objects.select_for_update().filter(wanted)) if wanted else []


def _resave(bookmark: Bookmark, save: PreparedSave) -> bool:
    """A save of a URL its owner has: merge it into that bookmark and move it to the top.

    A bookmark whose fetch had failed is made pending again, to be fetched
    again: sending a link again is how people retry (a page that was down, a
    network allowed since). Whether it was.
    """
    new = save.bookmark
    merge_resave(bookmark, new.title, new.note, new.added_at)
    bookmark.updated_at = timezone.now()
    changed = ["title", "note", "added_at", "updated_at"]
    refetching = bookmark.status == Bookmark.Status.FAILED
    if refetching:
        bookmark.status, bookmark.fetch_attempts, bookmark.fetch_error = Bookmark.Status.PENDING, 0, ""
        changed += ["status", "fetch_attempts", "fetch_error"]
    # Private and unread change on a re-save only when the caller says so (the Pinboard API does).
    if save.is_private is not None:
        bookmark.is_private = save.is_private
        changed.append("is_private")
    if save.unread is not None:
        bookmark.unread = save.unread
        changed.append("unread")
    bookmark.save(update_fields=changed)
    return refetching


def merge_resave(bookmark: Bookmark, title: str, note: str, when: datetime) -> None:
    """Re-saving rules, without saving: a typed title wins, the note is appended, it moves up.

    Shared by ``save_prepared`` and the importer (which also merges the same
    URL met twice in one file with it).
    """
    if title:
        bookmark.title = title
    if note and note not in bookmark.note:
        bookmark.note = f"{bookmark.note}\n\n{note}" if bookmark.note else note
        bookmark.note = bookmark.note[-NOTE_MAX_LENGTH:]
    bookmark.added_at = max(when, bookmark.added_at)


def replace_note(bookmarks: Iterable[Bookmark], old: str, new: str) -> None:
    """A note given with a save changed (a chat message was corrected): in each note, ``old`` gives way to ``new``.

    The rest of a note (earlier saves' notes, what was typed on the web)
    stays; a note that no longer holds ``old`` gets ``new`` appended, as a
    re-save would.
    """
    old, new = clean_text(old), clean_text(new)
    now = timezone.now()
    for bookmark in bookmarks:
        note = bookmark.note
        if old and old in note:
            note = _BLANK_RUN_RE.sub("\n\n", note.replace(old, new, 1)).strip()
        elif new and new not in note:
            note = f"{note}\n\n{new}" if note else new
        if note != bookmark.note:
            bookmark.note, bookmark.updated_at = note[-NOTE_MAX_LENGTH:], now
            bookmark.save(update_fields=["note", "updated_at"])
            mark_changed([bookmark.owner_id])


def edit_bookmark(
    bookmark: Bookmark,
    *,
    url: str,
    title: str,
    tags: str | Iterable[str],
    note: str,
    is_private: bool | None = None,
    unread: bool | None = None,
) -> Bookmark:
    """Change a bookmark from the edit form or the API. Raises ``InvalidURL`` or ``DuplicateURL``."""
    url = clean_url(url)
    key = normalize_url(url)
    digest = url_hash(key)
    with transaction.atomic():
        if digest != bookmark.url_hash:
            clash = Bookmark.objects.filter(owner_id=bookmark.owner_id, url_hash=digest).first()
            if clash is not None:
                raise DuplicateURL(clash)
            bookmark.url, bookmark.normalized_url, bookmark.url_hash = url, key, digest
            bookmark.status = Bookmark.Status.PENDING
            bookmark.page_title = bookmark.description = bookmark.fetch_error = ""
            bookmark.fetch_attempts = 0
            queue_fetches([bookmark.pk])
        title = clean_text(title)[:TITLE_MAX_LENGTH]
        # Keeping the fetched title unchanged in the form is not "typing" one.
        bookmark.title = "" if title == bookmark.page_title else title
        bookmark.note = clean_text(note)[:NOTE_MAX_LENGTH]
        if is_private is not None:
            bookmark.is_private = is_private
        if unread is not None:
            bookmark.unread = unread
        bookmark.updated_at = timezone.now()
        bookmark.save()
        bookmark.tags.set(get_or_create_tags(bookmark.owner_id, parse_tags(tags)[: max_tags()]))
        mark_changed([bookmark.owner_id])
    return bookmark


def mark_unread(user: AbstractBaseUser, ids: Iterable[int], *, unread: bool) -> int:
    """Mark the given bookmarks of ``user`` unread ("read later") or read; how many changed.

    Those already so are left alone (their ``updated_at`` stays), others move
    ``updated_at`` so the list's live poll shows the change in other tabs.
    """
    changed = (
        Bookmark.objects.filter(owner=user, id__in=list(ids))
        .exclude(unread=unread)
        .update(unread=unread, updated_at=timezone.now())
    )
    if changed:
        mark_changed([user.pk])
    return changed


def delete_bookmarks(user: AbstractBaseUser, ids: Iterable[int]) -> int:
    """Delete the given bookmarks of ``user`` (other users' ids are ignored); how many went."""
    _total, per_model = Bookmark.objects.filter(owner=user, id__in=list(ids)).delete()
    return per_model.get(Bookmark._meta.label, 0)

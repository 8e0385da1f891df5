"""The one place that creates, changes and deletes bookmarks and tags.

Views, forms, the importer, the API, Celery tasks and the IM gateway call these
functions; none of them saves a ``Bookmark`` by itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from bookmarks import fetch_sql, insert_sql
from bookmarks.group_commit import Gathered, GroupCommit
from bookmarks.interchange.entries import BookmarkEntry
from bookmarks.models import TAG_MAX_LENGTH, Bookmark, Tag
from bookmarks.normalize import InvalidURL, clean_url, normalize_url, url_hash
from bookmarks.sent_together import SentTogether
from bookmarks.signals import bookmark_fetch_recorded, bookmark_fetched

if TYPE_CHECKING:  # the fetcher (lxml, charset_normalizer) is the worker's; the gateway never loads it
    from bookmarks.fetching.metadata import PageMetadata

logger = logging.getLogger(__name__)

__all__ = [
    "DuplicateURL",
    "ImportResult",
    "InvalidURL",
    "SaveResult",
    "begin_fetch",
    "delete_bookmarks",
    "edit_bookmark",
    "fetches_sent_together",
    "import_bookmarks",
    "parse_tags",
    "prepare_save",
    "save_prepared",
    "queue_fetch",
    "record_metadata",
    "refresh_metadata",
    "save_url",
    "delete_tag",
    "merge_tags",
    "rename_tag",
    "tag_bookmarks",
    "untag_bookmarks",
    "sweep_stale_fetches",
]

NOTE_MAX_LENGTH = 10_000
_TAG_SPLIT_RE = re.compile(r"[\s,，、]+")
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline


class DuplicateURL(ValueError):
    """Editing a bookmark's URL to one the owner already has."""

    def __init__(self, existing: Bookmark):
        super().__init__("You already have a bookmark for this link.")
        self.existing = existing


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    # (url, reason) for every entry that was not imported.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (url, message) for entries imported with a repair (an unreadable date).
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class SaveResult:
    bookmark: Bookmark
    created: bool
    # When it was first saved, for "already saved on ..." replies.
    first_saved_at: datetime


def parse_tags(raw: str | Iterable[str]) -> list[str]:
    """Tag names from ``"python, web #reading"`` or a list; de-duplicated ignoring case."""
    pieces = _TAG_SPLIT_RE.split(raw) if isinstance(raw, str) else list(raw)
    names: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        name = piece.strip().lstrip("#").strip()[:TAG_MAX_LENGTH]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def save_url(user: AbstractBaseUser, url: str, **options: Any) -> SaveResult:
    """Save ``url`` for ``user``; re-saving a URL they have updates that bookmark.

    1. The URL is checked (``InvalidURL`` with a readable message) and keyed.
    2. A new URL becomes a ``pending`` bookmark.
    3. A known one is updated: tags merged, the note appended, a typed title
       replaces the old one, and it moves to the top of the list.
    Concurrent saves of one URL end in one row: the loser of the insert race
    updates the winner's row (a re-save is the same path: the insert comes
    first and the unique key turns it into no row, ``bookmarks.insert_sql``).
    ``options``: those of ``prepare_save`` (title, tags, note, source,
    added_at, is_private, unread).
    """
    return save_prepared([prepare_save(user, url, **options)])[0]


@dataclass
class PreparedSave:
    """A checked save, not written yet (``prepare_save``); ``bookmark`` is the row a new URL becomes."""

    bookmark: Bookmark
    tag_names: list[str]
    is_private: bool | None
    unread: bool | None


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
    """The first half of ``save_url``, without the database: checks and keys the URL (``InvalidURL``)."""
    url = clean_url(url)
    key = normalize_url(url)
    when = added_at or timezone.now()
    bookmark = Bookmark(
        owner=user,
        url=url,
        normalized_url=key,
        url_hash=url_hash(key),
        title=_clean_text(title)[:500],
        note=_clean_text(note)[:NOTE_MAX_LENGTH],
        source=source,
        created_at=when,
        added_at=when,
        is_private=bool(is_private),
        unread=bool(unread),
    )
    return PreparedSave(bookmark, parse_tags(tags), is_private, unread)


def save_prepared(saves: list[PreparedSave]) -> list[SaveResult]:
    """Write prepared saves, in order, as ``save_url`` would one by one; a result for each.

    The new URLs among them are inserted together (``insert_sql.insert_new``:
    one statement per 50), the rest update their bookmarks one by one. The
    gateway writes all the links of the chat messages waiting in one call,
    and keeps the work of ``prepare_save`` out of its transaction: on SQLite
    that transaction holds the one write lock (docs/PERFORMANCE.md, ingest).
    Inside a caller's transaction no savepoint is taken: nothing here is
    expected to fail (a known URL is no error), and a failure is the
    caller's to roll back.
    """
    results: list[SaveResult | None] = [None] * len(saves)
    with transaction.atomic(savepoint=False):
        first: dict[tuple[int, str], int] = {}
        for index, save in enumerate(saves):
            first.setdefault((save.bookmark.owner_id, save.bookmark.url_hash), index)
        inserted = {
            id(bookmark) for bookmark in insert_sql.insert_new([saves[index].bookmark for index in first.values()])
        }
        for index, save in enumerate(saves):
            if id(save.bookmark) in inserted:
                _add_tags(save.bookmark, save.tag_names)
                queue_fetch(save.bookmark.pk)
                results[index] = SaveResult(save.bookmark, created=True, first_saved_at=save.bookmark.created_at)
            else:
                results[index] = _save_known(save)
    return results  # type: ignore[return-value]  # every slot is filled


def _save_known(save: PreparedSave) -> SaveResult:
    """A URL its owner had (or that a concurrent save just inserted): update that bookmark."""
    new = save.bookmark
    for _attempt in range(3):
        existing = Bookmark.objects.select_for_update().filter(owner_id=new.owner_id, url_hash=new.url_hash).first()
        if existing is not None:
            _update_existing(existing, new.title, new.note, new.added_at)
            _set_flags(existing, save.is_private, save.unread)
            _add_tags(existing, save.tag_names)
            return SaveResult(existing, created=False, first_saved_at=existing.created_at)
        if insert_sql.insert_new([new]):  # deleted since the insert met it
            _add_tags(new, save.tag_names)
            queue_fetch(new.pk)
            return SaveResult(new, created=True, first_saved_at=new.created_at)
    raise RuntimeError(f"could not save {new.url!r}: the database kept refusing the row")


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
            queue_fetch(bookmark.id)
        title = _clean_text(title)[:500]
        # Keeping the fetched title unchanged in the form is not "typing" one.
        bookmark.title = "" if title == bookmark.page_title else title
        bookmark.note = _clean_text(note)[:NOTE_MAX_LENGTH]
        if is_private is not None:
            bookmark.is_private = is_private
        if unread is not None:
            bookmark.unread = unread
        bookmark.save()
        bookmark.tags.set(_get_or_create_tags(bookmark.owner_id, parse_tags(tags)))
    return bookmark


def import_bookmarks(
    user: AbstractBaseUser,
    entries: Iterable[BookmarkEntry],
    *,
    folders_as_tags: bool = False,
    fetch_missing_titles: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Save many bookmarks at once (files, Pinboard JSON), merging like ``save_url``.

    Runs in batches with bulk inserts; see ``bookmarks.bulk_import``. New
    bookmarks without a title are left ``pending`` for the beat sweep to fetch
    (a batch a minute) only when ``fetch_missing_titles`` is set.
    """
    from bookmarks.bulk_import import run_import  # the bulk machinery needs this module's helpers

    return run_import(
        user, entries, folders_as_tags=folders_as_tags, fetch_missing_titles=fetch_missing_titles, progress=progress
    )


def queue_fetch(bookmark_id: int) -> None:
    """Queue ``fetch_metadata`` for this bookmark once the current transaction commits.

    Inside ``fetches_sent_together()`` the committed ones are sent when that
    block ends, all at once.
    """
    transaction.on_commit(lambda: fetches_sent_together.add(bookmark_id))


def _send_fetches(bookmark_ids: list[int]) -> None:
    from bookmarks.tasks import send_fetches  # tasks import this module

    try:
        send_fetches(bookmark_ids)
    except Exception:  # the rows stay pending; the beat sweep queues them again later
        logger.warning("could not queue fetch_metadata for %s; the sweep will retry", bookmark_ids, exc_info=True)


# ``with fetches_sent_together():`` fetches queued by transactions that commit
# inside the block are sent when it ends, through one producer and one Redis
# round trip. The gateway saves a batch of chat messages per call; a publish
# each was a third of its CPU per URL. A rolled-back transaction sends
# nothing, as with ``queue_fetch`` alone (Django drops its commit hooks).
fetches_sent_together = SentTogether(_send_fetches)


def refresh_metadata(bookmark: Bookmark) -> Bookmark:
    """Fetch the page again ("refresh title"). The current title stays until a new one arrives."""
    with transaction.atomic():
        Bookmark.objects.filter(pk=bookmark.pk).update(
            status=Bookmark.Status.PENDING, fetch_attempts=0, fetch_error="", updated_at=timezone.now()
        )
        queue_fetch(bookmark.pk)
    bookmark.refresh_from_db()
    return bookmark


def begin_fetch(bookmark_id: int, *, redelivered: bool = False) -> Bookmark | None:
    """The pending bookmark a fetch attempt is for; None when it is gone, no longer pending, or given up.

    A fetch writes the database once: this is a read, and the attempt is
    counted by the write of its result (``record_metadata``). On SQLite every
    write waits for the database's one write lock, so a second write per
    fetch (a counting claim) halved what the gateway and the worker could save
    and fetch together (docs/PERFORMANCE.md, ingest).

    ``redelivered``: the broker handed this task out before and got no
    acknowledgement (the worker died with it, or shut down holding it). That
    lost attempt is counted now, in one ``UPDATE ... RETURNING``
    (``bookmarks.fetch_sql``), and a bookmark with ``FETCH_MAX_ATTEMPTS``
    counted is given up (failed, and confirmed as such) instead of fetched
    again: a page that kills the worker cannot take it down forever. A task
    restored at a worker's shutdown before it started counts too.
    """
    if not redelivered:
        return pending_reads.run(bookmark_id)
    now = timezone.now()
    with transaction.atomic():
        bookmark = fetch_sql.claim_pending(bookmark_id, now)
        if bookmark is not None and bookmark.fetch_attempts >= settings.FETCH_MAX_ATTEMPTS:
            _give_up(Bookmark.objects.filter(status=Bookmark.Status.PENDING), bookmark_id, bookmark.fetch_attempts, now)
            return None
    return bookmark


def record_metadata(
    bookmark_id: int, metadata: PageMetadata, *, final: bool = True, bookmark: Bookmark | None = None
) -> Bookmark | None:
    """Store what a fetch found and count the attempt. ``final=False``: a retry follows, only the error is noted.

    A final result sets ``ok`` or ``failed``, sends ``bookmark_fetch_recorded``
    in the same transaction and, after commit, ``bookmark_fetched``. A
    bookmark no longer pending (done already, or deleted) is left alone, so
    running a fetch twice changes nothing more.
    The title the person typed (``title``) is never touched. ``bookmark``
    (the row ``begin_fetch`` returned) saves reading it again: one
    conditional UPDATE is the whole write, shared with the results other
    threads finish at the same moment (``fetch_results``), which is what lets
    one worker keep up with hundreds of fetches a second.
    """
    # A final result and what ``bookmark_fetch_recorded`` receivers write (the
    # chat confirmation's claim) share one transaction, with the results other
    # threads of this process are writing at the same moment.
    result = FetchResult.of(bookmark_id, metadata, final=final, bookmark=bookmark)
    return fetch_results.run(result) if final else _write_results([result], announce=False)[0]


class FetchResult(NamedTuple):
    """What one fetch writes: ``fields`` on ``bookmark_id``, if still pending."""

    bookmark_id: int
    fields: dict[str, object]
    bookmark: Bookmark | None  # as begin_fetch read it
    attempts: int  # counted before this one

    @classmethod
    def of(cls, bookmark_id: int, metadata: PageMetadata, *, final: bool, bookmark: Bookmark | None) -> FetchResult:
        now = timezone.now()
        fields: dict[str, object] = {
            "http_status": metadata.http_status,
            "fetch_error": (metadata.error or "")[:500],
            "updated_at": now,
        }
        if final:
            fields.update(final_url=metadata.final_url, fetched_at=now, status=Bookmark.Status.FAILED)
            if metadata.ok:
                fields.update(
                    status=Bookmark.Status.OK,
                    page_title=metadata.title[:500],
                    description=metadata.description,
                    site_name=metadata.site_name[:200],
                    favicon_url=metadata.favicon_url,
                    image_url=metadata.image_url,
                )
            # A failed fetch keeps any earlier page title; display_title falls back to the URL.
        return cls(bookmark_id, fields, bookmark, bookmark.fetch_attempts if bookmark is not None else 0)


def _write_results(results: list[FetchResult], announce: bool = True) -> list[Bookmark | None]:
    """Write fetch results as a set: one UPDATE per shape, one ``bookmark_fetch_recorded`` for all.

    Each result's bookmark as written, or None where it was no longer pending.
    """
    # With ``bookmark``: a link edited while its old page was being fetched gets no stale result.
    written = fetch_sql.update_pending_many(
        [(r.bookmark_id, r.fields, r.bookmark.url if r.bookmark is not None else None) for r in results]
    )
    bookmarks: list[Bookmark | None] = []
    for result in results:
        bookmark = result.bookmark
        if result.bookmark_id not in written:
            bookmark = None
        elif bookmark is None:
            bookmark = Bookmark.objects.filter(pk=result.bookmark_id).first()
        else:
            for name, value in result.fields.items():
                setattr(bookmark, name, value)
            bookmark.fetch_attempts = result.attempts + 1  # not += : a group that failed runs this again
        written.discard(result.bookmark_id)  # a bookmark given twice is written by the first
        bookmarks.append(bookmark)
    if announce:
        _announce_fetched([bookmark for bookmark in bookmarks if bookmark is not None])
    return bookmarks


# Reads of the fetches this process's threads begin at the same moment, made together: one statement
# for several, where a statement per fetch was 40% of the statements PostgreSQL ran in the chat ingest
# benchmark (docs/PERFORMANCE.md, ingest).
pending_reads: Gathered[int, Bookmark | None] = Gathered(fetch_sql.read_pending)

# Fetch results of this process's threads, written together. Apps add scopes
# around each group's commit (imgateway.apps: confirmations sent together).
fetch_results = GroupCommit(_write_results)


def sweep_stale_fetches(now: datetime | None = None, batch: int = 1000) -> tuple[int, int]:
    """Queue again bookmarks left pending too long (lost task, dead worker); give up on the over-tried.

    Returns (queued again, given up). A row is touched before it is queued,
    so the next sweep leaves it alone until it is stale again.
    """
    now = now or timezone.now()
    stale = Bookmark.objects.filter(
        status=Bookmark.Status.PENDING, updated_at__lt=now - timedelta(seconds=settings.FETCH_STALE_AFTER)
    )
    queued = given_up = 0
    # Saves from chat, the web and the API before imported bookmarks: an
    # import of thousands of untitled links (which carry the file's old
    # dates) must not hold a chat save whose task was lost behind it.
    imported_last = Case(When(source=Bookmark.Source.IMPORT, then=Value(1)), default=Value(0))
    oldest_first = stale.order_by(imported_last, "updated_at", "id")
    for bookmark_id, attempts in oldest_first.values_list("id", "fetch_attempts")[:batch]:
        with transaction.atomic():
            if attempts >= settings.FETCH_MAX_ATTEMPTS:
                given_up += _give_up(stale, bookmark_id, attempts, now)
            elif stale.filter(pk=bookmark_id).update(updated_at=now):
                queued += 1
                queue_fetch(bookmark_id)
    return queued, given_up


def _give_up(pending: QuerySet[Bookmark], bookmark_id: int, attempts: int, now: datetime) -> bool:
    """Mark the bookmark failed if it is still in ``pending``, and announce it; whether it was."""
    error = f"gave up after {attempts} attempts"
    if not pending.filter(pk=bookmark_id).update(
        status=Bookmark.Status.FAILED, fetch_error=error, fetched_at=now, updated_at=now
    ):
        return False
    _announce_fetched([Bookmark.objects.get(pk=bookmark_id)])
    return True


def _announce_fetched(bookmarks: list[Bookmark]) -> None:
    """In the transaction that ended their fetches: ``bookmark_fetch_recorded`` now, ``bookmark_fetched`` on commit."""
    if not bookmarks:
        return
    bookmark_fetch_recorded.send(sender=Bookmark, bookmarks=bookmarks)

    def fetched() -> None:
        # Robust: a receiver that raises is logged by Django and stops neither
        # the other receivers nor the commit's other hooks (the chat
        # confirmations), and the fetch, committed already, still succeeds.
        for bookmark in bookmarks:
            bookmark_fetched.send_robust(sender=Bookmark, bookmark=bookmark)

    transaction.on_commit(fetched)


def delete_bookmarks(user: AbstractBaseUser, ids: Iterable[int]) -> int:
    """Delete the given bookmarks of ``user`` (other users' ids are ignored)."""
    _total, per_model = Bookmark.objects.filter(owner=user, id__in=list(ids)).delete()
    return per_model.get(Bookmark._meta.label, 0)


def rename_tag(user: AbstractBaseUser, tag_id: int, new_name: str) -> Tag:
    """Rename one of ``user``'s tags; a name they already use (ignoring case) merges into that tag."""
    names = parse_tags([new_name])
    if not names:
        raise ValueError("A tag needs a name.")
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(owner=user, pk=tag_id)
        other = Tag.objects.filter(owner=user, name__iexact=names[0]).exclude(pk=tag.pk).first()
        if other is not None:
            return merge_tags(user, [tag.pk], other.pk)
        tag.name = names[0]
        tag.save(update_fields=["name"])
    return tag


def merge_tags(user: AbstractBaseUser, source_ids: Iterable[int], target_id: int) -> Tag:
    """Move the bookmarks of ``source_ids`` onto ``target_id`` and delete the sources (all ``user``'s)."""
    through = Bookmark.tags.through
    with transaction.atomic():
        target = Tag.objects.get(owner=user, pk=target_id)
        sources = Tag.objects.filter(owner=user, pk__in=list(source_ids)).exclude(pk=target.pk)
        bookmark_ids = set(through.objects.filter(tag__in=sources).values_list("bookmark_id", flat=True))
        through.objects.bulk_create(
            [through(bookmark_id=bookmark_id, tag_id=target.pk) for bookmark_id in bookmark_ids],
            ignore_conflicts=True,  # bookmarks that already had the target tag
        )
        sources.delete()
    return target


def delete_tag(user: AbstractBaseUser, tag_id: int) -> int:
    """Delete one of ``user``'s tags; its bookmarks stay. Returns how many tags went (0 or 1)."""
    deleted, _per_model = Tag.objects.filter(owner=user, pk=tag_id).delete()
    return 1 if deleted else 0


def tag_bookmarks(user: AbstractBaseUser, ids: Iterable[int], tags: str | Iterable[str]) -> int:
    """Add tags to ``user``'s bookmarks among ``ids`` (others' ids are ignored). Returns bookmarks touched."""
    through = Bookmark.tags.through
    names = parse_tags(tags)
    with transaction.atomic():
        bookmark_ids = list(Bookmark.objects.filter(owner=user, id__in=list(ids)).values_list("id", flat=True))
        if not names or not bookmark_ids:
            return 0
        new_rows = [
            through(bookmark_id=bookmark_id, tag_id=tag.pk)
            for tag in _get_or_create_tags(user.pk, names)
            for bookmark_id in bookmark_ids
        ]
        through.objects.bulk_create(new_rows, ignore_conflicts=True)
    return len(bookmark_ids)


def untag_bookmarks(user: AbstractBaseUser, ids: Iterable[int], tags: str | Iterable[str]) -> int:
    """Remove tags from ``user``'s bookmarks among ``ids``. Returns how many tag links went."""
    lowered = [name.lower() for name in parse_tags(tags)]
    if not lowered:
        return 0
    through = Bookmark.tags.through
    deleted, _per_model = (
        through.objects.annotate(lname=Lower("tag__name"))
        .filter(bookmark__owner=user, bookmark_id__in=list(ids), tag__owner=user, lname__in=lowered)
        .delete()
    )
    return deleted


def _update_existing(bookmark: Bookmark, title: str, note: str, when: datetime) -> None:
    merge_resave(bookmark, title, note, when)
    bookmark.save(update_fields=["title", "note", "added_at", "updated_at"])


def merge_resave(bookmark: Bookmark, title: str, note: str, when: datetime) -> None:
    """Re-saving rules, without saving: a typed title wins, the note is appended, it moves up.

    Shared by ``save_url`` and the bulk importer so both merge alike (the
    importer also merges its own in-file rows with it, which have the same
    ``title``, ``note`` and ``added_at`` attributes).
    """
    if title:
        bookmark.title = title
    if note and note not in bookmark.note:
        bookmark.note = f"{bookmark.note}\n\n{note}" if bookmark.note else note
        bookmark.note = bookmark.note[-NOTE_MAX_LENGTH:]
    bookmark.added_at = max(when, bookmark.added_at)


def _set_flags(bookmark: Bookmark, is_private: bool | None, unread: bool | None) -> None:
    """Private/unread change on a re-save only when the caller says so (the Pinboard API does)."""
    changed = {}
    if is_private is not None and is_private != bookmark.is_private:
        changed["is_private"] = is_private
    if unread is not None and unread != bookmark.unread:
        changed["unread"] = unread
    if changed:
        for name, value in changed.items():
            setattr(bookmark, name, value)
        bookmark.save(update_fields=[*changed, "updated_at"])


def _add_tags(bookmark: Bookmark, names: list[str]) -> None:
    if names:
        bookmark.tags.add(*_get_or_create_tags(bookmark.owner_id, names))


def _get_or_create_tags(owner_id: int, names: list[str]) -> list[Tag]:
    """The owner's tags with these names (ignoring case), creating missing ones."""
    if not names:
        return []
    wanted = {name.lower(): name for name in names}
    found = {
        tag.name.lower(): tag
        for tag in Tag.objects.annotate(lname=Lower("name")).filter(owner_id=owner_id, lname__in=list(wanted))
    }
    for lower, name in wanted.items():
        if lower not in found:
            try:
                with transaction.atomic():
                    found[lower] = Tag.objects.create(owner_id=owner_id, name=name)
            except IntegrityError:  # created meanwhile by another request
                found[lower] = Tag.objects.get(owner_id=owner_id, name__iexact=name)
    return [found[lower] for lower in wanted]


def _clean_text(text: str) -> str:
    """Strip and drop control characters other than newlines and tabs."""
    return _CONTROL_CHARS_RE.sub("", text or "").strip()

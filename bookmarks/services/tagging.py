"""Tags: parsing what people type, adding them to bookmarks, renaming, merging and deleting them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from bookmarks.models import TAG_MAX_LENGTH, Bookmark, Tag
from bookmarks.services.text import clean_text

_TAG_SPLIT_RE = re.compile(r"[\s,，、]+")


def parse_tags(raw: str | Iterable[str]) -> list[str]:
    """Tag names from ``"python, web #reading"`` or a list; de-duplicated ignoring case."""
    pieces = _TAG_SPLIT_RE.split(raw) if isinstance(raw, str) else list(raw)
    names: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        name = clean_text(piece).lstrip("#").strip()[:TAG_MAX_LENGTH]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


class TooManyTags(ValueError):
    """More tag names than one bookmark may hold (``BOOKMARK_MAX_TAGS``)."""

    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} tags given; a bookmark holds at most {limit}.")
        self.count, self.limit = count, limit


def max_tags() -> int:
    """The most tags one bookmark holds: the web form and the APIs refuse more, imports and chat keep the first."""
    return settings.BOOKMARK_MAX_TAGS


def check_tag_count(names: list[str]) -> list[str]:
    """``names`` when a bookmark may hold them all, else ``TooManyTags`` (for forms and APIs to word)."""
    if len(names) > max_tags():
        raise TooManyTags(len(names), max_tags())
    return names


def add_tags(pairs: Iterable[tuple[Bookmark, list[str]]]) -> None:
    """Give each bookmark its tags (created where the owner has none of that name): a few queries for all."""
    pairs = list(pairs)
    names_by_owner: dict[int, list[str]] = {}
    for bookmark, names in pairs:
        names_by_owner.setdefault(bookmark.owner_id, []).extend(names)
    if not any(names_by_owner.values()):
        return
    tags = {
        (owner_id, tag.name.lower()): tag
        for owner_id, names in names_by_owner.items()
        for tag in get_or_create_tags(owner_id, parse_tags(names))
    }
    through = Bookmark.tags.through
    # What each bookmark has already: a re-save adds tags only while the bookmark holds fewer than the cap.
    had: dict[int, set[int]] = {}
    for bookmark_id, tag_id in through.objects.filter(bookmark_id__in=[b.pk for b, _n in pairs]).values_list(
        "bookmark_id", "tag_id"
    ):
        had.setdefault(bookmark_id, set()).add(tag_id)
    links = []
    for bookmark, names in pairs:
        held = had.setdefault(bookmark.pk, set())
        for name in names:
            tag_id = tags[(bookmark.owner_id, name.lower())].pk
            if tag_id in held or len(held) >= max_tags():
                continue
            held.add(tag_id)
            links.append(through(bookmark_id=bookmark.pk, tag_id=tag_id))
    through.objects.bulk_create(links, ignore_conflicts=True)  # links another request made meanwhile


def get_or_create_tags(owner_id: int, names: list[str]) -> list[Tag]:
    """The owner's tags with these names (ignoring case), creating missing ones, in the order of ``names``."""
    if not names:
        return []
    wanted = {name.lower(): name for name in names}
    found = {tag.name.lower(): tag for tag in _named(owner_id, list(wanted.values()))}
    missing = [Tag(owner_id=owner_id, name=name) for lower, name in wanted.items() if lower not in found]
    if missing:
        # Another request may create one of them meanwhile: its tag is used.
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        found.update((tag.name.lower(), tag) for tag in _named(owner_id, [tag.name for tag in missing]))
    return [found[lower] for lower in wanted]


def _named(owner_id: int, names: list[str]) -> Iterable[Tag]:
    """The owner's tags with these names, ignoring case. SQLite's lower() folds ASCII letters only,
    so a name as written is looked up as well; callers key the result by Python's lower()."""
    lowered = [name.lower() for name in names]
    tags = Tag.objects.annotate(lname=Lower("name")).filter(owner_id=owner_id)
    return tags.filter(Q(lname__in=lowered) | Q(name__in=names))


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
        try:
            with transaction.atomic():
                tag.save(update_fields=["name"])
        except IntegrityError:  # the name was taken meanwhile: merge into that tag instead
            other = Tag.objects.get(owner=user, name__iexact=names[0])
            return merge_tags(user, [tag.pk], other.pk)
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
    names = parse_tags(tags)
    with transaction.atomic():
        bookmarks = list(Bookmark.objects.filter(owner=user, id__in=list(ids)).only("id", "owner_id"))
        if not names or not bookmarks:
            return 0
        add_tags((bookmark, names) for bookmark in bookmarks)
    return len(bookmarks)


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

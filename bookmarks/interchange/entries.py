"""What an importer hands to ``services.import_bookmarks``: one bookmark as a file describes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_SPACES_RE = re.compile(r"\s+")
_NEEDS_CLEANING_RE = re.compile(r"[\s,]|^#")


@dataclass
class BookmarkEntry:
    url: str
    title: str = ""
    tags: list[str] = field(default_factory=list)
    # The person's own words about the link (Netscape ``<DD>``, Pinboard ``extended``).
    note: str = ""
    created_at: datetime | None = None
    # When it was last saved (our lists sort by it); defaults to ``created_at``.
    added_at: datetime | None = None
    modified_at: datetime | None = None
    is_private: bool = False
    unread: bool = False
    folders: list[str] = field(default_factory=list)
    # Problems worth telling the person that did not stop the import ("invalid ADD_DATE").
    warnings: list[str] = field(default_factory=list)


def tag_name(raw: str) -> str:
    """A tag from another service as one of ours: no surrounding ``#``/spaces, inner spaces as ``-``.

    Our tag fields split on spaces and commas, so ``multi word`` would come back
    as two tags after an edit; ``multi-word`` stays one.
    """
    if not _NEEDS_CLEANING_RE.search(raw):
        return raw  # the common case, already clean (imports call this for every tag)
    name = raw.strip().lstrip("#").strip()
    return _SPACES_RE.sub("-", name.replace(",", " ").strip())

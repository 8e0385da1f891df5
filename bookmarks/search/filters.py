"""The list's filters and sorts, from the URL; the search qualifiers that say the same.

A list URL can say ``?unread=1`` (``0``: the read ones), ``?private=1``
(``0``: the others), ``?untagged=1``, ``?from=chat|web|import|api`` and
``?sort=newest|oldest|title|site``, combined with ``q``, ``tag`` and
``page``. Each filter is also a search qualifier with the same condition
(``is:unread``, ``-is:unread``, ``is:private``, ``is:untagged``,
``from:chat``, ...), so a typed query and a bookmarked URL agree, and the
bot's ``find`` understands them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf, StrIndex, Substr
from django.http import QueryDict
from django.utils.translation import gettext as _

from bookmarks.models import Bookmark

# The words of ``?from=`` and ``from:``, and the sources they stand for.
SOURCES = {
    "chat": Bookmark.Source.IM,
    "web": Bookmark.Source.WEB,
    "import": Bookmark.Source.IMPORT,
    "api": Bookmark.Source.API,
}
SORTS = ("newest", "oldest", "title", "site")
DEFAULT_SORT = "newest"


def _untagged() -> Q:
    return ~Q(Exists(Bookmark.tags.through.objects.filter(bookmark_id=OuterRef("pk"))))


def qualifier_conditions() -> dict[str, Q]:
    """Each filter qualifier and the bookmarks it keeps."""
    conditions = {
        "is:unread": Q(unread=True),
        "is:private": Q(is_private=True),
        "is:untagged": _untagged(),
    }
    conditions.update({f"from:{word}": Q(source=source) for word, source in SOURCES.items()})
    return conditions


FILTER_QUALIFIERS = tuple(qualifier_conditions())


@dataclass
class ListFilters:
    """What a list URL asks for besides ``q`` and ``tag``; ``problems`` name the values it did not understand."""

    unread: bool | None = None
    private: bool | None = None
    untagged: bool = False
    source: str = ""  # a key of SOURCES, or ""
    sort: str = DEFAULT_SORT
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: QueryDict) -> ListFilters:
        filters = cls()
        filters.unread = _flag(params, "unread", filters.problems)
        filters.private = _flag(params, "private", filters.problems)
        filters.untagged = bool(_flag(params, "untagged", filters.problems))
        source = params.get("from", "").strip().lower()
        if source in SOURCES:
            filters.source = source
        elif source:
            filters.problems.append(_("Unknown source “%(value)s”: showing every source.") % {"value": source[:50]})
        sort = params.get("sort", "").strip().lower()
        if sort in SORTS:
            filters.sort = sort
        elif sort:
            filters.problems.append(_("Unknown sort “%(value)s”: showing the newest first.") % {"value": sort[:50]})
        return filters

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list (the sort alone does not)."""
        return self.unread is not None or self.private is not None or self.untagged or bool(self.source)

    def params(self) -> list[tuple[str, str]]:
        """The URL parameters that say this again, in a fixed order (for page links and the live poll)."""
        pairs = []
        if self.unread is not None:
            pairs.append(("unread", "1" if self.unread else "0"))
        if self.private is not None:
            pairs.append(("private", "1" if self.private else "0"))
        if self.untagged:
            pairs.append(("untagged", "1"))
        if self.source:
            pairs.append(("from", self.source))
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        return pairs

    def apply(self, bookmarks: QuerySet[Bookmark]) -> QuerySet[Bookmark]:
        """``bookmarks`` narrowed and ordered as asked."""
        if self.unread is not None:
            bookmarks = bookmarks.filter(unread=self.unread)
        if self.private is not None:
            bookmarks = bookmarks.filter(is_private=self.private)
        if self.untagged:
            bookmarks = bookmarks.filter(_untagged())
        if self.source:
            bookmarks = bookmarks.filter(source=SOURCES[self.source])
        return sort_bookmarks(bookmarks, self.sort)


def _flag(params: QueryDict, name: str, problems: list[str]) -> bool | None:
    """``?name=1`` (True), ``0`` (False), empty or ``all`` (None); anything else is named in ``problems``."""
    value = params.get(name, "").strip().lower()
    if value in ("", "all"):
        return None
    if value in ("1", "0"):
        return value == "1"
    problems.append(_("“%(value)s” is not a choice for %(name)s: use 1 or 0.") % {"value": value[:50], "name": name})
    return None


def sort_bookmarks(bookmarks: QuerySet[Bookmark], sort: str) -> QuerySet[Bookmark]:
    """``newest`` (the model's order: last saved first), ``oldest``, ``title`` (as shown, ignoring case) or
    ``site`` (the host without ``www.``); ties newest first. Title and site orders read every match:
    no index holds them."""
    if sort == "oldest":
        return bookmarks.order_by("added_at", "id")
    if sort not in ("title", "site"):
        return bookmarks
    # normalized_url is "scheme://host/path...": the host and path, "www." left out, is the site key.
    after_scheme = Substr("normalized_url", StrIndex("normalized_url", Value("://")) + 3)
    bookmarks = bookmarks.annotate(list_address=after_scheme).annotate(
        list_site=Case(
            When(list_address__startswith="www.", then=Substr("list_address", 5)),
            default=F("list_address"),
        )
    )
    if sort == "site":
        return bookmarks.order_by("list_site", "-added_at", "-id")
    shown = Coalesce(NullIf("title", Value("")), NullIf("page_title", Value("")), F("list_site"))
    return bookmarks.annotate(list_title=Lower(shown)).order_by("list_title", "-added_at", "-id")

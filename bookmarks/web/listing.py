"""What the list page and its live updates show of each bookmark, as plain data.

``templates/bookmarks/item.html`` makes the HTML of a ``ListItem`` and
escapes every value in it. A page has 50 items, and per item the template's
``{% url %}`` and ``|date`` tags cost about as much as all the page's queries
(docs/PERFORMANCE.md), so the links and dates are worked out here instead:
the URL shapes and date formats once per page, each day's short date once.
The fixed words of an item are translated once per page too (``item_labels``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.translation import gettext

from bookmarks.fetching.reasons import describe, is_missing_title, is_not_public
from bookmarks.models import Bookmark, LinkHealth, PageText
from bookmarks.search.excerpts import Excerpt, text_excerpts
from bookmarks.services import favicons

FILTER_COUNT_CAP = 100
# An id no bookmark has, reversed once to learn where ids go in a URL.
_MARKER_ID = 2147483647


@dataclass(frozen=True)
class ListItem:
    bookmark: Bookmark
    title: str
    tag_names: list[str]
    # When it was added, in the active time zone: ISO 8601, long and short in the active language.
    added_iso: str
    added_long: str
    added_short: str
    edit_url: str
    delete_url: str
    refresh_url: str
    # The failure badge: "" (none), "no_title" (the link stands in for a title) or "unreached".
    failure: str
    # Why the fetch failed, in the active language, when the badge shows.
    reason: str
    # While trying the site (DEBUG): a refused local page says which setting allows local pages.
    local_hint: bool
    # The kept text's state (PageText.State, '' when none), and the reader view when there is text.
    text_state: str = ""
    read_url: str = ""
    # When a search found it by its page text: where, and the words around it.
    excerpt: Excerpt | None = None
    # The last link check, when it found something to say: broken, or moved (and where to).
    health: LinkHealth | None = None
    check_url: str = ""
    relink_url: str = ""
    unread_url: str = ""
    # The site's icon, served by us (or our default icon when the site has none yet).
    icon_url: str = ""


def list_items(bookmarks: Iterable[Bookmark], query: str = "") -> list[ListItem]:
    """The item of each bookmark, in the active language and time zone.

    One query reads all their tag names, one their texts' states and link
    checks, one their sites' icons, and a search that looks in the text one
    more for the excerpts (``text_excerpts``).
    """
    bookmarks = list(bookmarks)
    icons = _icon_urls(bookmarks)
    tag_names = _tag_names([bookmark.pk for bookmark in bookmarks])
    excerpts = text_excerpts(bookmarks, query) if query else {}
    extras = _extras([bookmark.pk for bookmark in bookmarks])
    read, check, relink, unread = (
        _url_shape(name) for name in ("bookmarks:read", "bookmarks:check", "bookmarks:relink", "bookmarks:unread")
    )
    edit, delete, refresh = (_url_shape(name) for name in ("bookmarks:edit", "bookmarks:delete", "bookmarks:refresh"))
    long_format, short_format = get_format("DATETIME_FORMAT"), get_format("DATE_FORMAT")
    short_dates: dict[date, str] = {}  # many items share a day
    items = []
    for bookmark in bookmarks:
        added, pk = timezone.localtime(bookmark.added_at), bookmark.pk
        day = added.date()
        failure = _failure(bookmark)
        text_state, health = extras.get(pk, ("", None))
        if day not in short_dates:
            short_dates[day] = dateformat.format(added, short_format)
        items.append(
            ListItem(
                bookmark=bookmark,
                title=bookmark.display_title,
                tag_names=tag_names.get(pk, []),
                added_iso=added.isoformat(),
                added_long=dateformat.format(added, long_format),
                added_short=short_dates[day],
                edit_url=f"{edit[0]}{pk}{edit[1]}",
                delete_url=f"{delete[0]}{pk}{delete[1]}",
                refresh_url=f"{refresh[0]}{pk}{refresh[1]}",
                failure=failure,
                reason=describe(bookmark.fetch_error) if failure else "",
                local_hint=bool(failure) and settings.DEBUG and is_not_public(bookmark.fetch_error),
                text_state=text_state,
                read_url=f"{read[0]}{pk}{read[1]}" if text_state == PageText.State.KEPT else "",
                excerpt=excerpts.get(pk),
                health=health,
                check_url=f"{check[0]}{pk}{check[1]}",
                relink_url=f"{relink[0]}{pk}{relink[1]}",
                unread_url=f"{unread[0]}{pk}{unread[1]}",
                icon_url=icons[pk],
            )
        )
    return items


def item_labels() -> dict[str, str]:
    """The words every item shows, in the active language."""
    return {
        "from_chat": gettext("from chat"),
        "pending": gettext("title on its way"),
        "failed": gettext("title not found"),
        "unreached": gettext("page not reached"),
        "private": gettext("private"),
        "unread": gettext("unread"),
        "edit": gettext("Edit"),
        "delete": gettext("Delete"),
        "refresh": gettext("Refresh title"),
        "read": gettext("Read"),
        "in_text": gettext("in the page’s text"),
        "not_text": gettext("no text kept: not a web page"),
        "broken": gettext("broken link"),
        "moved": gettext("moved"),
        "check": gettext("Check link"),
        "relink": gettext("Use the new link"),
        "mark_read": gettext("Mark read"),
        "read_later": gettext("Read later"),
    }


def source_choices() -> list[tuple[str, str]]:
    """The filter bar's "saved from" choices (``?from=``), in the active language."""
    return [
        ("", gettext("Anywhere")),
        ("chat", gettext("Chat")),
        ("web", gettext("Web")),
        ("import", gettext("Import")),
        ("api", gettext("API")),
    ]


def sort_choices() -> list[tuple[str, str]]:
    """The filter bar's sorts (``?sort=``), in the active language."""
    return [
        ("newest", gettext("Newest first")),
        ("oldest", gettext("Oldest first")),
        ("title", gettext("Title")),
        ("site", gettext("Site")),
    ]


def _failure(bookmark: Bookmark) -> str:
    """Which failure badge describes what the person sees of a failed fetch.

    A bookmark shown by its link lacks a title, whatever the reason. One
    shown by a title (typed, or from an earlier fetch) lacks nothing when the
    page was read and only had no title of its own; otherwise its page could
    not be reached.
    """
    if bookmark.status != Bookmark.Status.FAILED:
        return ""
    if not (bookmark.title or bookmark.page_title):
        return "no_title"
    return "" if is_missing_title(bookmark.fetch_error) else "unreached"


def _icon_urls(bookmarks: list[Bookmark]) -> dict[int, str]:
    """Each bookmark's icon URL: its site's icon (versioned by digest) or the default icon. One query."""
    hosts = {bookmark.pk: favicons.host_of(bookmark.final_url or bookmark.url) for bookmark in bookmarks}
    digests = favicons.icon_digests(hosts.values())
    default = static("img/site-icon.svg")
    before, _, after = reverse("bookmarks:icon", args=["HOST"]).rpartition("HOST")
    urls = {}
    for pk, host in hosts.items():
        digest = digests.get(host)
        version = digest[: favicons.VERSION_LENGTH] if digest else ""
        urls[pk] = f"{before}{quote(host, safe=':.')}{after}?v={version}" if digest else default
    return urls


def _extras(bookmark_ids: list[int]) -> dict[int, tuple[str, LinkHealth | None]]:
    """Each bookmark's kept text state and noteworthy link check (broken or moved), in one query."""
    rows = Bookmark.objects.filter(pk__in=bookmark_ids).values_list(
        "pk",
        "page_text__state",
        "health__outcome",
        "health__broken",
        "health__final_url",
        "health__error",
        "health__failing_since",
    )
    extras: dict[int, tuple[str, LinkHealth | None]] = {}
    for pk, text_state, outcome, broken, final_url, error, since in rows:
        noteworthy = broken or outcome == LinkHealth.Outcome.MOVED
        health = LinkHealth(
            bookmark_id=pk, outcome=outcome, broken=broken, final_url=final_url, error=error, failing_since=since
        )
        extras[pk] = (text_state or "", health if noteworthy else None)
    return extras


def link_filters(owner: object) -> list[dict[str, object]]:
    """The sidebar's ``is:broken`` and ``is:moved`` filters, only those with links, counted up to
    ``FILTER_COUNT_CAP`` ("100+"): one query, no COUNT over a large collection."""
    noteworthy = Q(broken=True) | Q(outcome=LinkHealth.Outcome.MOVED)
    rows = LinkHealth.objects.filter(noteworthy, bookmark__owner=owner).values_list("broken", flat=True)
    flags = list(rows[: FILTER_COUNT_CAP * 2 + 1])
    counts = {"is:broken": flags.count(True), "is:moved": flags.count(False)}
    labels = {"is:broken": gettext("Broken links"), "is:moved": gettext("Moved links")}
    return [
        {"query": query, "label": labels[query], "count": f"{FILTER_COUNT_CAP}+" if n > FILTER_COUNT_CAP else n}
        for query, n in counts.items()
        if n
    ]


def _tag_names(bookmark_ids: list[int]) -> dict[int, list[str]]:
    """Each bookmark's tag names in the tags' order. (Plain values: Tag instances cost more Python than the query.)"""
    links = (
        Bookmark.tags.through.objects.filter(bookmark_id__in=bookmark_ids)
        .order_by(Lower("tag__name"))
        .values_list("bookmark_id", "tag__name")
    )
    names: dict[int, list[str]] = {}
    for bookmark_id, name in links:
        names.setdefault(bookmark_id, []).append(name)
    return names


def _url_shape(name: str) -> tuple[str, str]:
    """The URL of ``name`` for a bookmark id, as (before the id, after the id)."""
    before, _, after = reverse(name, args=[_MARKER_ID]).partition(str(_MARKER_ID))
    return before, after

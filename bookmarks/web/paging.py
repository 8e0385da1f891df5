"""Pages of a bookmark list that stay fast deep into a large collection.

Two costs dominate a big list, and both are avoided:

- ``OFFSET`` makes the database build every skipped row. The page's ids come
  from the ``(owner, -added_at, -id)`` index alone (an index-only scan on
  PostgreSQL, a covering index on SQLite); then only those rows are read.
- ``COUNT(*)`` over every match. A first page that is not full already says
  how many there are; otherwise searches count at most ``count_cap`` matches
  ("more than 1,000") instead of scanning the whole collection once more.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from bookmarks.models import Bookmark


class _Known:
    """Stands in for the object list so that ``Paginator`` uses a count we already have."""

    def __init__(self, count: int):
        self._count = count

    def count(self) -> int:
        return self._count


def paginate_bookmarks(
    bookmarks: QuerySet[Bookmark], number: str | int | None, per_page: int, count_cap: int | None = None
) -> Page:
    """Page ``number`` (clamped like ``Paginator.get_page``) with its bookmarks.

    ``page.paginator.capped`` is ``count_cap`` when the count stopped there
    ("more than 1,000"), else 0; the pages still go on past it.
    Queries: the page's ids (read on to the cap when there is one: that
    counts too), the rows, and a count only when needed.
    """
    ids_query = bookmarks.values_list("id", flat=True)
    number = _page_number(number)
    start = (number - 1) * per_page
    ids, known = _ids_and_capped_count(ids_query, start, per_page, count_cap)
    if known is not None:
        total, capped = known
    elif number == 1 and len(ids) <= per_page:
        total, capped = len(ids), False
    else:
        total, capped = _count(bookmarks, count_cap)
        if capped and ids:
            # The page exists; whether another follows, its one extra id says.
            total = max(total, start + len(ids))
        elif capped:
            # Past the end of a long result (a typed-in page number): only a
            # full count knows where the last page is.
            total = bookmarks.count()
    last = max(1, -(-total // per_page))
    if number > last:  # past the end, like Paginator.get_page: show the last page
        number = last
        ids = list(ids_query[(number - 1) * per_page : number * per_page])
    ids = ids[:per_page]
    paginator = Paginator(_Known(total), per_page)
    paginator.capped = count_cap if capped else 0
    rows = {bookmark.pk: bookmark for bookmark in Bookmark.objects.filter(id__in=ids)}
    return Page([rows[pk] for pk in ids if pk in rows], number, paginator)


# Past any real collection (50 million bookmarks at 50 a page), and far below
# where the OFFSET of a typed-in page number would overflow the database's integer.
MAX_PAGE = 1_000_000


def _page_number(number: str | int | None) -> int:
    try:
        return min(MAX_PAGE, max(1, int(number or 1)))
    except (TypeError, ValueError):
        return 1


def _ids_and_capped_count(
    ids_query: QuerySet, start: int, per_page: int, cap: int | None
) -> tuple[list[int], tuple[int, bool] | None]:
    """The page's ids (and the next one's) from ``start``, and (total, capped) when the same query tells it.

    Within the first ``cap`` matches one query reads on to the cap: a search
    is evaluated once for its page and its count, not twice.
    """
    if cap is None or start > cap:
        return list(ids_query[start : start + per_page + 1]), None
    ids = list(ids_query[start : max(start + per_page, cap) + 1])
    if not ids and start:
        return ids, None  # past the end: where the last page is needs a count
    seen = start + len(ids)
    total = min(seen, cap) if seen <= cap else max(cap, start + min(len(ids), per_page + 1))
    return ids[: per_page + 1], (total, seen > cap)


def _count(bookmarks: QuerySet[Bookmark], cap: int | None) -> tuple[int, bool]:
    if cap is None:
        return bookmarks.count(), False
    # COUNT over a LIMITed subquery: the database stops after cap + 1 matches.
    seen = bookmarks.order_by()[: cap + 1].count()
    return min(seen, cap), seen > cap

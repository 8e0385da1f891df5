"""The bookmark pages: landing, list (with live updates and bulk actions), add, edit, delete."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookmarks import services
from bookmarks.fetching.reasons import describe as describe_fetch_error
from bookmarks.models import Bookmark, Tag
from bookmarks.search import with_tags_matching
from bookmarks.search.filters import ListFilters
from bookmarks.services import changes
from bookmarks.web.access import owned_bookmark
from bookmarks.web.forms import BookmarkForm, BulkActionForm
from bookmarks.web.listing import item_labels, link_filters, list_items, sort_choices, source_choices
from bookmarks.web.paging import paginate_bookmarks

PAGE_SIZE = 50
# The sidebar shows the first tags by name; the tags page has them all.
SIDEBAR_TAGS = 60
LIVE_LIMIT = 50
# A search counts its matches up to here ("more than 1,000 found"): counting
# every match of a common word would cost more than finding the page.
SEARCH_COUNT_CAP = 1000
LIVE_OVERLAP = timedelta(seconds=5)


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("bookmarks:list")
    return render(request, "landing.html")


@login_required
def bookmark_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    tag_name = request.GET.get("tag", "").strip()
    filters = ListFilters.from_params(request.GET)
    for problem in filters.problems:
        messages.warning(request, problem)
    # A filter, like a search, counts at most SEARCH_COUNT_CAP ("more than 1,000"): no COUNT over every row.
    cap = SEARCH_COUNT_CAP if query or filters.active else None
    page = paginate_bookmarks(_filtered(request, query, tag_name, filters), request.GET.get("page"), PAGE_SIZE, cap)
    narrowed = bool(query or tag_name or filters.active)
    context = {
        "page": page,
        "items": list_items(page.object_list, query),
        "labels": item_labels(),
        "list_url": reverse("bookmarks:list"),
        "next_path": request.get_full_path(),
        "query": query,
        "tag_name": tag_name,
        "filters": filters,
        "narrowed": narrowed,
        # What every page link repeats (q, tag, the filters and the sort), ending in "&" when not empty.
        "page_query": "".join(f"{urlencode([pair])}&" for pair in _list_params(query, tag_name, filters)),
        "filter_query": urlencode(filters.params()),
        "sources": source_choices(),
        "sorts": sort_choices(),
        **_sidebar(request),
        **(_empty_hints(request) if not page.object_list and not narrowed else {}),
        "live_since": timezone.now().isoformat(),
        "bulk_form": BulkActionForm(),
    }
    return render(request, "bookmarks/list.html", context)


def _list_params(query: str, tag_name: str, filters: ListFilters) -> list[tuple[str, str]]:
    return [*([("q", query)] if query else []), *([("tag", tag_name)] if tag_name else []), *filters.params()]


def _empty_hints(request: HttpRequest) -> dict[str, object]:
    """What the empty list says about saving from chat besides the bot's address (``imgateway.context``)."""
    return {"chat_linked": request.user.linked_jids.exists()}


@login_required
@require_GET
def bookmark_live(request: HttpRequest) -> JsonResponse:
    """What changed since ``since`` on the list page: new bookmarks and arrived titles.

    The page polls this about every second while visible (static/js/list.js)
    and replaces or prepends the items by id. A poll with nothing new since
    its cursor is answered from the user's change marker (``services.changes``)
    without a bookmark or tag query. The cursor steps back a little,
    so a row committed late with an older ``updated_at`` is not missed; the
    page skips items whose version it already shows.
    """
    since = parse_datetime(request.GET.get("since", "")) or timezone.now()
    if not changes.changed_since(request.user.pk, since):
        # Nothing of this user's changed after the cursor: answered from one Redis read, no query.
        return JsonResponse({"since": max(timezone.now() - LIVE_OVERLAP, since).isoformat(), "items": []})
    filters = ListFilters.from_params(request.GET)
    changed = _filtered(request, request.GET.get("q", "").strip(), request.GET.get("tag", "").strip(), filters)
    changed = changed.filter(updated_at__gt=since).order_by("-updated_at")[:LIVE_LIMIT]
    # Where the item's buttons come back to: the list page, not this endpoint.
    back = request.GET.get("back", "")
    list_url = reverse("bookmarks:list")
    back = back if back.startswith(list_url) else list_url
    template = get_template("bookmarks/item.html")
    context = {"list_url": list_url, "next_path": back, "labels": item_labels()}
    items = [
        {
            "id": item.bookmark.pk,
            "version": item.bookmark.updated_at.isoformat(),
            "html": template.render({**context, "item": item}, request),
        }
        for item in list_items(reversed(changed), request.GET.get("q", "").strip())
    ]
    cursor = max(timezone.now() - LIVE_OVERLAP, since)
    answer: dict[str, object] = {"since": cursor.isoformat(), "items": items}
    if items:  # an arrival may bring new tags: the sidebar comes along
        sidebar = {
            "list_url": list_url,
            "tag_name": request.GET.get("tag", "").strip(),
            "query": request.GET.get("q", "").strip(),
            **_sidebar(request),
        }
        answer["tags_html"] = render_to_string("bookmarks/tag_cloud.html", sidebar, request)
    return JsonResponse(answer)


def _sidebar(request: HttpRequest) -> dict[str, object]:
    """The sidebar's context: the link filters with links, the first tags by name, and whether there are more."""
    tags = list(Tag.objects.filter(owner=request.user)[: SIDEBAR_TAGS + 1])
    return {
        "tags": tags[:SIDEBAR_TAGS],
        "more_tags": len(tags) > SIDEBAR_TAGS,
        "link_filters": link_filters(request.user),
    }


@login_required
@require_POST
def bookmark_bulk(request: HttpRequest) -> HttpResponse:
    """Tag, untag, mark read or unread, check again or delete the selected bookmarks (the owner's only)."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_safe_next(request) or "bookmarks:list")
    action, ids, tags = form.cleaned_data["action"], form.cleaned_data["ids"], form.cleaned_data["tag"]
    if action == BulkActionForm.ADD_TAG:
        count = services.tag_bookmarks(request.user, ids, tags)
        text = ngettext("Tagged %(count)d bookmark.", "Tagged %(count)d bookmarks.", count)
    elif action == BulkActionForm.REMOVE_TAG:
        count = services.untag_bookmarks(request.user, ids, tags)
        text = ngettext("Removed the tag from %(count)d bookmark.", "Removed the tag from %(count)d bookmarks.", count)
    elif action in (BulkActionForm.MARK_READ, BulkActionForm.MARK_UNREAD):
        unread = action == BulkActionForm.MARK_UNREAD
        count = services.mark_unread(request.user, ids, unread=unread)
        if unread:
            text = ngettext("Marked %(count)d bookmark unread.", "Marked %(count)d bookmarks unread.", count)
        else:
            text = ngettext("Marked %(count)d bookmark read.", "Marked %(count)d bookmarks read.", count)
    elif action == BulkActionForm.RECHECK:
        count = services.queue_link_checks(
            list(Bookmark.objects.filter(owner=request.user, pk__in=ids).values_list("pk", flat=True))
        )
        text = ngettext("Checking %(count)d link again.", "Checking %(count)d links again.", count)
    else:
        count = services.delete_bookmarks(request.user, ids)
        text = ngettext("Deleted %(count)d bookmark.", "Deleted %(count)d bookmarks.", count)
    messages.success(request, text % {"count": count})
    return redirect(_safe_next(request) or "bookmarks:list")


def _filtered(request: HttpRequest, query: str, tag_name: str, filters: ListFilters) -> QuerySet[Bookmark]:
    tags = [tag_name] if tag_name else []
    return filters.apply(with_tags_matching(Bookmark.objects.filter(owner=request.user), request.user, tags, query))


@login_required
@require_http_methods(["GET", "POST"])
def bookmark_add(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BookmarkForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            # An unticked box on the add form keeps what a link saved before had.
            result = services.save_url(
                request.user,
                data["url"],
                title=data["title"],
                tags=data["tags"],
                note=data["note"],
                is_private=data["is_private"] or None,
                unread=data["unread"] or None,
            )
            if result.created:
                messages.success(request, _("Saved “%(title)s”.") % {"title": result.bookmark.display_title})
            else:
                when = date_format(result.first_saved_at, "DATE_FORMAT")
                text = _("Already saved on %(date)s; updated it and moved it to the top.") % {"date": when}
                if result.refetching:
                    text += " " + _("Its title could not be fetched before: fetching its title again.")
                messages.info(request, text)
            return redirect(_safe_next(request) or "bookmarks:list")
    else:
        form = BookmarkForm(initial={key: request.GET.get(key, "") for key in ("url", "title", "tags", "note")})
    return render(request, "bookmarks/form.html", {"form": form, "adding": True, "next": _safe_next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def bookmark_edit(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    bookmark = owned_bookmark(request, bookmark_id)
    if request.method == "POST":
        form = BookmarkForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.edit_bookmark(
                    bookmark,
                    url=data["url"],
                    title=data["title"],
                    tags=data["tags"],
                    note=data["note"],
                    is_private=data["is_private"],
                    unread=data["unread"],
                )
            except services.DuplicateURL:
                form.add_error("url", _("You already have a bookmark for this link."))
            else:
                messages.success(request, _("Changes saved."))
                return redirect(_safe_next(request) or "bookmarks:list")
    else:
        form = BookmarkForm(
            initial={
                "url": bookmark.url,
                "title": bookmark.title or bookmark.page_title,
                "tags": " ".join(tag.name for tag in bookmark.tags.all()),
                "note": bookmark.note,
                "is_private": bookmark.is_private,
                "unread": bookmark.unread,
            }
        )
    context = {
        "form": form,
        "adding": False,
        "bookmark": bookmark,
        "fetch_reason": describe_fetch_error(bookmark.fetch_error),
        "next": _safe_next(request),
    }
    return render(request, "bookmarks/form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def bookmark_delete(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    bookmark = owned_bookmark(request, bookmark_id)
    if request.method == "POST":
        services.delete_bookmarks(request.user, [bookmark.id])
        messages.success(request, _("Deleted “%(title)s”.") % {"title": bookmark.display_title})
        return redirect(_safe_next(request) or "bookmarks:list")
    return render(request, "bookmarks/confirm_delete.html", {"bookmark": bookmark, "next": _safe_next(request)})


@login_required
@require_POST
def bookmark_refresh(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    """Fetch the page title again (the "refresh title" button)."""
    bookmark = owned_bookmark(request, bookmark_id)
    services.refresh_metadata(bookmark)
    messages.info(request, _("Fetching the title of %(host)s again.") % {"host": bookmark.host})
    return redirect(_safe_next(request) or "bookmarks:list")


@login_required
@require_POST
def bookmark_check(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    """Check this link now, in the worker (the "check link" button)."""
    bookmark = owned_bookmark(request, bookmark_id)
    services.queue_link_checks([bookmark.pk])
    messages.info(request, _("Checking the link to %(host)s; reload in a moment.") % {"host": bookmark.host})
    return redirect(_safe_next(request) or "bookmarks:list")


@login_required
@require_POST
def bookmark_relink(request: HttpRequest, bookmark_id: int) -> HttpResponse:
    """Point a moved bookmark at its new address (the "use the new link" button)."""
    bookmark = owned_bookmark(request, bookmark_id)
    try:
        bookmark = services.use_final_url(bookmark)
    except services.DuplicateURL:
        messages.error(request, _("You already have a bookmark for the new link."))
    else:
        messages.success(request, _("The link now goes to %(url)s.") % {"url": bookmark.url})
    return redirect(_safe_next(request) or "bookmarks:list")


def _safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter when it points into this site, else empty."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok else ""

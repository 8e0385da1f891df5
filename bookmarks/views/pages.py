"""The bookmark pages: landing, list, add, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookmarks import services
from bookmarks.access import owned_bookmark
from bookmarks.forms import BookmarkForm
from bookmarks.models import Bookmark, Tag
from bookmarks.search import search_bookmarks

PAGE_SIZE = 50


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("bookmarks:list")
    return render(request, "landing.html")


@login_required
def bookmark_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    tag_name = request.GET.get("tag", "").strip()
    bookmarks = Bookmark.objects.filter(owner=request.user)
    if tag_name:
        bookmarks = bookmarks.filter(tags__owner=request.user, tags__name__iexact=tag_name)
    if query:
        bookmarks = search_bookmarks(bookmarks, query)
    page = Paginator(bookmarks.prefetch_related("tags"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "tag_name": tag_name,
        "tags": Tag.objects.filter(owner=request.user),
    }
    return render(request, "bookmarks/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def bookmark_add(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BookmarkForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            result = services.save_url(
                request.user, data["url"], title=data["title"], tags=data["tags"], note=data["note"]
            )
            if result.created:
                messages.success(request, _("Saved “%(title)s”.") % {"title": result.bookmark.display_title})
            else:
                when = date_format(result.first_saved_at, "DATE_FORMAT")
                messages.info(
                    request, _("Already saved on %(date)s; updated it and moved it to the top.") % {"date": when}
                )
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
                    bookmark, url=data["url"], title=data["title"], tags=data["tags"], note=data["note"]
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
            }
        )
    context = {"form": form, "adding": False, "bookmark": bookmark, "next": _safe_next(request)}
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


def _safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter when it points into this site, else empty."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok else ""

"""Pinboard's v1 API at ``/api/v1/`` so Pinboard clients and scripts work unchanged: the posts
here, tags/rename, tags/delete, user/secret and the notes in ``pinboard_account``.

Authentication: ``?auth_token=USERNAME:TOKEN`` (the token from the settings
page, or ``user/api_token``), or HTTP Basic with the site password. Replies
are XML unless ``format=json``, as Pinboard's are. Field mapping:

- ``description`` is the title, ``extended`` is the note, ``tags`` are
  space-separated, ``shared=no`` is private, ``toread=yes`` is unread;
- ``time`` is when the bookmark was last saved (what lists sort by);
- ``hash`` is the MD5 of the URL; ``meta`` is an MD5 that changes whenever
  the bookmark does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, time
from functools import wraps
from urllib.parse import urlsplit
from xml.etree import ElementTree

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from bookmarks import services
from bookmarks.interchange.entries import tag_name
from bookmarks.interchange.exporting import bookmark_entries
from bookmarks.models import AccessToken, Bookmark, Tag
from bookmarks.normalize import InvalidURL, normalize_url, url_hash
from bookmarks.search import with_tags_matching
from bookmarks.tokens import token_for, user_for
from bookmarks.web import login_limit

RECENT_DEFAULT, RECENT_MAX = 15, 100
MAX_TAG_FILTERS = 3
SUGGEST_MAX = 10


def pinboard_view(view: Callable) -> Callable:
    """Authenticate like Pinboard (401 otherwise) and pass the user along."""

    @csrf_exempt  # token- or password-authenticated GETs from scripts, as Pinboard takes them
    @wraps(view)
    def wrapper(request: HttpRequest, **kwargs: str) -> HttpResponse:
        user = _authenticated_user(request)
        if user is None:
            return HttpResponse("401 Forbidden", status=401, content_type="text/plain; charset=utf-8")
        return view(request, user, **kwargs)

    return wrapper


def _authenticated_user(request: HttpRequest):
    raw = request.GET.get("auth_token", "")
    if raw:
        username, _sep, key = raw.partition(":")
        user = user_for(AccessToken.Kind.API, key)
        return user if user is not None and user.get_username() == username else None
    # Basic auth as Pinboard takes it. We never answer with a WWW-Authenticate
    # challenge, so browsers never cache these credentials and a page elsewhere
    # cannot make a logged-in browser call posts/add or posts/delete.
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            username, _sep, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # The same guessing limit as the login page.
        return login_limit.authenticate_limited(request, username, password)
    return None


def wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format", "").lower() == "json"


def xml_reply(root: ElementTree.Element) -> HttpResponse:
    body = b'<?xml version="1.0" encoding="UTF-8" ?>\n' + ElementTree.tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def json_reply(data) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8")


def result_reply(request: HttpRequest, code: str) -> HttpResponse:
    if wants_json(request):
        return json_reply({"result_code": code})
    return xml_reply(ElementTree.Element("result", code=code))


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _posts(bookmarks: QuerySet[Bookmark], user) -> list[dict[str, str]]:
    posts = []
    for entry in bookmark_entries(user, bookmarks):
        meta_source = f"{entry.modified_at.isoformat()}|{entry.title}|{entry.note}|{' '.join(entry.tags)}"
        posts.append(
            {
                "href": entry.url,
                "description": entry.title,
                "extended": entry.note,
                "meta": hashlib.md5(meta_source.encode(), usedforsecurity=False).hexdigest(),
                "hash": hashlib.md5(entry.url.encode(), usedforsecurity=False).hexdigest(),
                "time": _stamp(entry.added_at),
                "shared": "no" if entry.is_private else "yes",
                "toread": "yes" if entry.unread else "no",
                "tags": " ".join(entry.tags),
            }
        )
    return posts


def _post_element(post: dict[str, str]) -> ElementTree.Element:
    # Pinboard's XML calls the tag list ``tag``; its JSON calls it ``tags``.
    attrs = {key: post[key] for key in ("href", "time", "description", "extended", "hash", "meta", "shared", "toread")}
    attrs["tag"] = post["tags"]
    return ElementTree.Element("post", attrs)


def _posts_response(request: HttpRequest, user, posts: list[dict], *, dt: str | None, tag: str) -> HttpResponse:
    if wants_json(request):
        return json_reply({"date": dt or "", "user": user.get_username(), "posts": posts})
    root = ElementTree.Element("posts", {"dt": dt or "", "tag": tag, "user": user.get_username()})
    root.extend(_post_element(post) for post in posts)
    return xml_reply(root)


def filtered(request: HttpRequest, user) -> tuple[QuerySet[Bookmark], str]:
    raw = request.GET.get("tag", "")
    return with_tags_matching(Bookmark.objects.filter(owner=user), user, raw.split()[:MAX_TAG_FILTERS]), raw


def _find(user, url: str) -> Bookmark | None:
    try:
        return Bookmark.objects.filter(owner=user, url_hash=url_hash(normalize_url(url))).first()
    except InvalidURL:
        return None


def _yes(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() in ("yes", "1", "true")


@pinboard_view
def posts_update(request: HttpRequest, user) -> HttpResponse:
    latest = Bookmark.objects.filter(owner=user).aggregate(latest=Max("updated_at"))["latest"]
    stamp = _stamp(latest or datetime(1970, 1, 1, tzinfo=UTC))
    if wants_json(request):
        return json_reply({"update_time": stamp})
    return xml_reply(ElementTree.Element("update", time=stamp))


@pinboard_view
def posts_add(request: HttpRequest, user) -> HttpResponse:
    params = request.GET if request.method == "GET" else request.POST
    url = params.get("url", "").strip()
    if not url:
        return result_reply(request, "missing url")
    tags = [name for name in (tag_name(piece) for piece in params.get("tags", "").replace(",", " ").split()) if name]
    if len(services.parse_tags(tags)) > services.max_tags():
        return result_reply(request, f"too many tags (a bookmark holds at most {services.max_tags()})")
    title, note = params.get("description", ""), params.get("extended", "")
    shared, toread = _yes(params.get("shared")), _yes(params.get("toread"))
    is_private = None if shared is None else not shared
    existing = _find(user, url)
    try:
        if existing is not None:
            if params.get("replace", "yes").lower() == "no":
                return result_reply(request, "item already exists")
            # Pinboard's replace=yes overwrites the bookmark rather than merging.
            services.edit_bookmark(
                existing, url=existing.url, title=title, tags=tags, note=note, is_private=is_private, unread=toread
            )
        else:
            when = _parse_dt(params.get("dt", ""))
            services.save_url(
                user,
                url,
                title=title,
                tags=tags,
                note=note,
                source=Bookmark.Source.API,
                added_at=when,
                is_private=is_private,
                unread=toread,
            )
    except InvalidURL as exc:
        return result_reply(request, str(exc))
    return result_reply(request, "done")


@pinboard_view
def posts_delete(request: HttpRequest, user) -> HttpResponse:
    bookmark = _find(user, request.GET.get("url", ""))
    if bookmark is None:
        return result_reply(request, "item not found")
    services.delete_bookmarks(user, [bookmark.pk])
    return result_reply(request, "done")


@pinboard_view
def posts_get(request: HttpRequest, user) -> HttpResponse:
    bookmarks, tag = filtered(request, user)
    url = request.GET.get("url", "")
    if url:
        found = _find(user, url)
        bookmarks = bookmarks.filter(pk=found.pk if found else None)
        day = None
    else:
        day = _parse_day(request.GET.get("dt", ""))
        if day is None:
            newest = bookmarks.order_by("-added_at").values_list("added_at", flat=True).first()
            day = newest.astimezone(UTC).date() if newest else None
        if day is not None:
            start = datetime.combine(day, time.min, tzinfo=UTC)
            bookmarks = bookmarks.filter(added_at__gte=start, added_at__lt=start + _ONE_DAY)
        else:
            bookmarks = bookmarks.none()
    posts = _posts(bookmarks, user)
    dt = posts[0]["time"] if posts else (f"{day.isoformat()}T00:00:00Z" if day else "")
    return _posts_response(request, user, posts, dt=dt, tag=tag)


@pinboard_view
def posts_recent(request: HttpRequest, user) -> HttpResponse:
    bookmarks, tag = filtered(request, user)
    count = _int(request.GET.get("count"), RECENT_DEFAULT, 1, RECENT_MAX)
    posts = _posts(bookmarks.order_by("-added_at", "-id")[:count], user)
    return _posts_response(request, user, posts, dt=posts[0]["time"] if posts else "", tag=tag)


@pinboard_view
def posts_all(request: HttpRequest, user) -> HttpResponse:
    bookmarks, tag = filtered(request, user)
    fromdt, todt = _parse_dt(request.GET.get("fromdt", "")), _parse_dt(request.GET.get("todt", ""))
    if fromdt:
        bookmarks = bookmarks.filter(added_at__gte=fromdt)
    if todt:
        bookmarks = bookmarks.filter(added_at__lte=todt)
    bookmarks = bookmarks.order_by("-added_at", "-id")
    start = _int(request.GET.get("start"), 0, 0, 10**9)
    results = request.GET.get("results")
    bookmarks = bookmarks[start : start + _int(results, 0, 0, 10**9)] if results else bookmarks[start:]
    posts = _posts(bookmarks, user)
    if wants_json(request):
        return json_reply(posts)  # Pinboard's posts/all JSON is a bare list
    root = ElementTree.Element("posts", {"tag": tag, "user": user.get_username()})
    root.extend(_post_element(post) for post in posts)
    return xml_reply(root)


@pinboard_view
def posts_dates(request: HttpRequest, user) -> HttpResponse:
    """How many bookmarks were saved on each day (UTC), newest first, optionally for up to three tags."""
    bookmarks, tag = filtered(request, user)
    per_day = (
        bookmarks.annotate(day=TruncDate("added_at", tzinfo=UTC))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("-day")
        .values_list("day", "count")
    )
    dates = {day.isoformat(): count for day, count in per_day}
    if wants_json(request):
        return json_reply({"user": user.get_username(), "tag": tag, "dates": dates})
    root = ElementTree.Element("dates", {"user": user.get_username(), "tag": tag})
    root.extend(ElementTree.Element("date", count=str(count), date=day) for day, count in dates.items())
    return xml_reply(root)


@pinboard_view
def posts_suggest(request: HttpRequest, user) -> HttpResponse:
    """Tags for a URL: ``popular`` (other people's) stays empty, as nobody else's tags are shown;
    ``recommended`` is the user's own: the bookmark's tags, then those used most on the same site."""
    url = request.GET.get("url", "").strip()
    if not url:
        return result_reply(request, "missing url")
    try:
        key = normalize_url(url)
    except InvalidURL as exc:
        return result_reply(request, str(exc))
    recommended = _recommended_tags(user, key)
    if wants_json(request):
        return json_reply([{"popular": []}, {"recommended": recommended}])
    root = ElementTree.Element("suggested")
    for name in recommended:
        ElementTree.SubElement(root, "recommended").text = name
    return xml_reply(root)


def _recommended_tags(user, key: str) -> list[str]:
    parts = urlsplit(key)
    own = Tag.objects.filter(owner=user, bookmarks__owner=user, bookmarks__url_hash=url_hash(key))
    names = list(own.order_by("name").values_list("name", flat=True))
    same_site = (
        Tag.objects.filter(owner=user, bookmarks__normalized_url__startswith=f"{parts.scheme}://{parts.netloc}/")
        .exclude(name__in=names)
        .annotate(uses=Count("bookmarks"))
        .order_by("-uses", "name")
        .values_list("name", flat=True)
    )
    return names + list(same_site[: max(SUGGEST_MAX - len(names), 0)])


@pinboard_view
def tags_get(request: HttpRequest, user) -> HttpResponse:
    counts = (
        Tag.objects.filter(owner=user)
        .annotate(count=Count("bookmarks"))
        .filter(count__gt=0)
        .values_list("name", "count")
    )
    if wants_json(request):
        return json_reply(dict(counts))
    root = ElementTree.Element("tags")
    root.extend(ElementTree.Element("tag", count=str(count), tag=name) for name, count in counts)
    return xml_reply(root)


@pinboard_view
def user_api_token(request: HttpRequest, user) -> HttpResponse:
    token = token_for(user, AccessToken.Kind.API)
    if wants_json(request):
        return json_reply({"result": token})
    element = ElementTree.Element("result")
    element.text = token
    return xml_reply(element)


_ONE_DAY = datetime(1970, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)


def _parse_dt(raw: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00")) if raw.strip() else None
    except ValueError:
        return None
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _parse_day(raw: str):
    value = _parse_dt(raw)
    return value.astimezone(UTC).date() if value else None


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw or default), low), high)
    except ValueError:
        return default

"""Pinboard v1 beyond the posts: ``tags/rename``, ``tags/delete``, ``user/secret`` and the notes.

Answers follow Pinboard's: ``<result>done</result>`` (JSON ``{"result": "done"}``)
for the tag calls, the secret as ``<result>KEY</result>``. A failure answers like
``posts/add``'s, ``<result code="tag not found" />`` (JSON ``result_code``), which
client libraries raise as an error rather than take for success. favsite has no notes,
so ``notes/list`` is an empty list and ``notes/ID`` answers ``item not found``.
"""

from __future__ import annotations

from xml.etree import ElementTree

from django.http import HttpRequest, HttpResponse

from bookmarks import services
from bookmarks.api.pinboard import json_reply, pinboard_view, result_reply, wants_json, xml_reply
from bookmarks.models import AccessToken, Tag
from bookmarks.tokens import token_for


def _text_result(request: HttpRequest, text: str) -> HttpResponse:
    if wants_json(request):
        return json_reply({"result": text})
    element = ElementTree.Element("result")
    element.text = text
    return xml_reply(element)


def _named_tag(user, name: str) -> Tag | None:
    return Tag.objects.filter(owner=user, name__iexact=name.strip()).first() if name.strip() else None


@pinboard_view
def tags_rename(request: HttpRequest, user) -> HttpResponse:
    """Rename a tag on every bookmark; a new name the user already has merges the two."""
    old, new = request.GET.get("old", ""), request.GET.get("new", "")
    if not old.strip():
        return result_reply(request, "missing old")
    if not new.strip():
        return result_reply(request, "missing new")
    tag = _named_tag(user, old)
    if tag is None:
        return result_reply(request, "tag not found")
    try:
        services.rename_tag(user, tag.pk, new)
    except ValueError:  # nothing left of the new name once cleaned (e.g. only "#")
        return result_reply(request, "invalid tag name")
    return _text_result(request, "done")


@pinboard_view
def tags_delete(request: HttpRequest, user) -> HttpResponse:
    """Take a tag off every bookmark; the bookmarks stay."""
    name = request.GET.get("tag", "")
    if not name.strip():
        return result_reply(request, "missing tag")
    tag = _named_tag(user, name)
    if tag is None:
        return result_reply(request, "tag not found")
    services.delete_tag(user, tag.pk)
    return _text_result(request, "done")


@pinboard_view
def user_secret(request: HttpRequest, user) -> HttpResponse:
    """The key of the user's private feeds (``/feeds/KEY/rss/``), as Pinboard's secret RSS key."""
    return _text_result(request, token_for(user, AccessToken.Kind.FEED))


@pinboard_view
def notes_list(request: HttpRequest, user) -> HttpResponse:
    if wants_json(request):
        return json_reply({"count": 0, "notes": []})
    return xml_reply(ElementTree.Element("notes", count="0"))


@pinboard_view
def note_detail(request: HttpRequest, user, note_id: str) -> HttpResponse:
    return result_reply(request, "item not found")

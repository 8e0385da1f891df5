"""Per-user RSS and Atom feeds behind a secret token: all bookmarks, one tag, or a search.

``/feeds/<token>/rss/`` and ``/feeds/<token>/atom/``, with ``?tag=`` and/or
``?q=``. A wrong token is a 404. The token can be regenerated in settings,
which ends every old feed address at once.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from bookmarks.models import AccessToken, Bookmark, PageText
from bookmarks.search import with_tags_matching
from bookmarks.tokens import user_for

FEED_SIZE = 50
# Characters XML 1.0 cannot carry: the feed title repeats ?q= and ?tag=, and
# one control character there made the whole feed a server error.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value).strip()


class BookmarkFeed(Feed):
    def get_object(self, request: HttpRequest, token: str) -> dict:
        user = user_for(AccessToken.Kind.FEED, token)
        if user is None:
            raise Http404
        return {"user": user, "tag": _xml_text(request.GET.get("tag", "")), "q": _xml_text(request.GET.get("q", ""))}

    def title(self, obj: dict) -> str:
        name = obj["user"].get_username()
        if obj["tag"] and obj["q"]:
            return _("%(name)s’s bookmarks tagged %(tag)s matching “%(q)s”") % {"name": name, **obj}
        if obj["tag"]:
            return _("%(name)s’s bookmarks tagged %(tag)s") % {"name": name, "tag": obj["tag"]}
        if obj["q"]:
            return _("%(name)s’s bookmarks matching “%(q)s”") % {"name": name, "q": obj["q"]}
        return _("%(name)s’s bookmarks") % {"name": name}

    def link(self, obj: dict) -> str:
        return settings.SITE_URL + reverse("bookmarks:list")

    def description(self, obj: dict) -> str:
        return self.title(obj)

    def items(self, obj: dict) -> QuerySet[Bookmark]:
        tags = [obj["tag"]] if obj["tag"] else []
        bookmarks = with_tags_matching(Bookmark.objects.filter(owner=obj["user"]), obj["user"], tags, obj["q"])
        kept = Exists(PageText.objects.filter(bookmark=OuterRef("pk"), state=PageText.State.KEPT))
        return bookmarks.annotate(text_kept=kept).order_by("-added_at", "-id").prefetch_related("tags")[:FEED_SIZE]

    def item_title(self, item: Bookmark) -> str:
        return item.display_title

    def item_link(self, item: Bookmark) -> str:
        return item.url

    def item_description(self, item: Bookmark) -> str:
        # Feed readers render this as HTML: the person's note and the page's
        # description are text, so they are escaped here.
        parts = [linebreaks(escape(item.note))] if item.note else []
        if item.description:
            parts.append(f"<blockquote>{escape(item.description)}</blockquote>")
        if getattr(item, "text_kept", False):
            read = settings.SITE_URL + reverse("bookmarks:read", args=[item.pk])
            label = _("Read the kept text")
            parts.append(f'<p><a href="{escape(read)}">{escape(label)}</a></p>')
        return "".join(parts)

    def item_guid(self, item: Bookmark) -> str:
        return f"{settings.SITE_URL}/bookmarks/{item.pk}/"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Bookmark):
        return item.added_at

    def item_updateddate(self, item: Bookmark):
        return item.updated_at

    def item_categories(self, item: Bookmark) -> list[str]:
        return [tag.name for tag in item.tags.all()]


class AtomBookmarkFeed(BookmarkFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: dict) -> str:
        return self.description(obj)

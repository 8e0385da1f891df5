"""The bot's commands (``help``, ``recent``, ``find``, ``tags``, ``del``, ``undo``, ``unlink``, ``broken``), notices.

Each command is a function of the linked user, the sender's bare JID and the
parsed command, returning the reply text; it runs in the database thread,
in the sender's language (``imgateway.messages`` routes to it). The queries
and actions behind them (``recent_bookmarks``, ``find_bookmarks``,
``tag_counts``, ``delete_numbered``, ``undo_last``) serve the menus of
``imgateway.adhoc`` too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookmarks import services
from bookmarks.models import Bookmark, PageText, Tag
from bookmarks.search import search_bookmarks
from favsite.redis import redis_client
from imgateway import linking
from imgateway.models import ChatSaveItem
from imgateway.parsing import Command

log = logging.getLogger(__name__)

UNKNOWN_JID_NOTICE_SECONDS = 3600
RECENT_DEFAULT, RECENT_MAX = 5, 20
FIND_MAX = 10
TAGS_MAX = 30


def run(user: AbstractBaseUser, bare: str, command: Command) -> str:
    """The reply to ``command`` from ``bare`` (linked to ``user``)."""
    return HANDLERS.get(command.name, _unknown)(user, bare, command)


def help_text() -> str:
    return "\n".join(
        [
            _("Send me a link and I save it for you. #words become tags; other text becomes the note."),
            _("Add !later (!稍后) to a message to save its links to read later (marked unread)."),
            _("Commands (with or without /):"),
            _("help (帮助): this text"),
            _("recent [N] (最近): your newest bookmarks"),
            _("find WORDS (搜索, 查找): search your bookmarks"),
            _("tags (标签): your tags"),
            _("del ID (删除): delete a bookmark"),
            _("undo (撤销): delete the last bookmark saved from this address"),
            _("broken (失效): your links that no longer answer"),
            _("link CODE (绑定): link this address to your account (code from %(url)s)")
            % {"url": f"{settings.SITE_URL}/settings/im/"},
            _("unlink (解绑): unlink this address"),
            _("Edit a message that saved links to change what it saved; retract it to remove what it created."),
        ]
    )


def _recent(user: AbstractBaseUser, bare: str, command: Command) -> str:
    try:
        count = int(command.args.split()[0]) if command.args.split() else RECENT_DEFAULT
    except ValueError:
        return _("Usage: recent [N], for example: recent 10")
    bookmarks = recent_bookmarks(user, count)
    if not bookmarks:
        return _("You have no bookmarks yet. Send me a link!")
    return "\n".join(_listing_line(b) for b in bookmarks)


def recent_bookmarks(user: AbstractBaseUser, count: int) -> list[Bookmark]:
    """``user``'s newest bookmarks, ``count`` of them (kept within 1..RECENT_MAX)."""
    return list(Bookmark.objects.filter(owner=user)[: max(1, min(count, RECENT_MAX))])


def _listing_line(bookmark: Bookmark) -> str:
    return f"[{bookmark.pk}] {bookmark.display_title}\n{bookmark.url}"


def _find(user: AbstractBaseUser, bare: str, command: Command) -> str:
    if not command.args.strip():
        return _("Usage: find WORDS, for example: find python asyncio")
    bookmarks, more = find_bookmarks(user, command.args)
    if not bookmarks:
        return _("Nothing found for “%(query)s”.") % {"query": command.args.strip()}
    readable = set(
        PageText.objects.filter(bookmark__in=bookmarks, state=PageText.State.KEPT).values_list("bookmark_id", flat=True)
    )
    lines = [_listing_line(b) + (_reader_line(b) if b.pk in readable else "") for b in bookmarks]
    if more:
        lines.append(_("More on the web: %(url)s") % {"url": f"{settings.SITE_URL}/bookmarks/"})
    return "\n".join(lines)


def _reader_line(bookmark: Bookmark) -> str:
    """The reader view of a bookmark whose page text was kept (it stays readable if the page goes)."""
    path = reverse("bookmarks:read", args=[bookmark.pk])
    return "\n" + _("Kept text: %(url)s") % {"url": f"{settings.SITE_URL}{path}"}


def find_bookmarks(user: AbstractBaseUser, query: str) -> tuple[list[Bookmark], bool]:
    """The first FIND_MAX of ``user``'s bookmarks that match ``query``, and whether there are more."""
    bookmarks = list(search_bookmarks(Bookmark.objects.filter(owner=user), query)[: FIND_MAX + 1])
    return bookmarks[:FIND_MAX], len(bookmarks) > FIND_MAX


def _broken(user: AbstractBaseUser, bare: str, command: Command) -> str:
    """The user's links that the periodic checks found broken (``is:broken``), newest first."""
    bookmarks, more = find_bookmarks(user, "is:broken")
    if not bookmarks:
        return _("None of your links is broken.")
    lines = [_listing_line(b) for b in bookmarks]
    if more:
        lines.append(_("More on the web: %(url)s") % {"url": f"{settings.SITE_URL}/bookmarks/?q=is:broken"})
    return "\n".join(lines)


def _tags(user: AbstractBaseUser, bare: str, command: Command) -> str:
    tags = tag_counts(user)
    if not tags:
        return _("You have no tags yet. Add #words to a link to tag it.")
    return " ".join(f"#{tag.name} ({tag.n})" for tag in tags)


def tag_counts(user: AbstractBaseUser) -> list[Tag]:
    """``user``'s most used tags (TAGS_MAX at most), each with its number of bookmarks as ``n``."""
    return list(
        Tag.objects.filter(owner=user).annotate(n=Count("bookmarks")).filter(n__gt=0).order_by("-n", "name")[:TAGS_MAX]
    )


def _delete(user: AbstractBaseUser, bare: str, command: Command) -> str:
    ids = bookmark_ids(command.args)
    if not ids:
        return _("Usage: del ID (the number shown by recent or find)")
    return delete_numbered(user, ids)


def bookmark_ids(text: str) -> list[int]:
    """The bookmark numbers in ``text`` ("12 [13] #14"); none when any piece is not one."""
    ids = [piece.lstrip("#[").rstrip("]") for piece in text.split()]
    # ASCII digits that fit a database integer ("²" is a digit to isdigit(), and
    # a 30-digit id overflows SQLite's INTEGER): anything else is a usage error.
    if not ids or not all(piece.isascii() and piece.isdigit() and len(piece) <= 18 for piece in ids):
        return []
    return [int(piece) for piece in ids]


def delete_numbered(user: AbstractBaseUser, ids: list[int]) -> str:
    """Delete ``user``'s bookmarks with these numbers; what to answer."""
    deleted = services.delete_bookmarks(user, ids)
    if not deleted:
        return _("No such bookmark.")
    return ngettext("Deleted %(n)d bookmark.", "Deleted %(n)d bookmarks.", deleted) % {"n": deleted}


def _undo(user: AbstractBaseUser, bare: str, command: Command) -> str:
    return undo_last(user, bare)


def undo_last(user: AbstractBaseUser, bare: str) -> str:
    """Delete the newest bookmark a message from ``bare`` created (never one it only saved again); what to answer."""
    item = (
        ChatSaveItem.objects.filter(chat_save__bare_jid=bare, chat_save__user=user, created=True)
        .exclude(bookmark=None)
        .select_related("bookmark")
        .order_by("-chat_save__created_at", "-position", "-id")
        .first()
    )
    if item is None:
        return _("Nothing to undo.")
    answer = removed_line(item.bookmark)
    services.delete_bookmarks(user, [item.bookmark_id])
    return answer


def removed_line(bookmark: Bookmark) -> str:
    """``Removed: <title>`` and the link: a bookmark deleted from chat (undo, a correction, a retraction)."""
    return _("Removed: %(title)s\n%(url)s") % {"title": bookmark.display_title, "url": bookmark.url}


def _unlink(user: AbstractBaseUser, bare: str, command: Command) -> str:
    linking.unlink(user, bare)
    return unlinked_text(user)


def unlinked_text(user: AbstractBaseUser) -> str:
    return _("This address is no longer linked to %(name)s. Link it again at %(url)s") % {
        "name": user.get_username(),
        "url": f"{settings.SITE_URL}/settings/im/",
    }


def _unknown(user: AbstractBaseUser, bare: str, command: Command) -> str:
    if command.word:
        return _("I don't know “%(word)s”. Send a link to save it, or help for the commands.") % {
            "word": command.word[:40]
        }
    return _("Send a link to save it, or help for the commands.")


HANDLERS: dict[str, Callable[[AbstractBaseUser, str, Command], str]] = {
    "recent": _recent,
    "find": _find,
    "tags": _tags,
    "del": _delete,
    "undo": _undo,
    "unlink": _unlink,
    "broken": _broken,
}


def too_long_notice(size: int) -> str:
    notice = ngettext(
        "That message is too long (%(size)d byte; at most %(limit)d). Nothing was saved.",
        "That message is too long (%(size)d bytes; at most %(limit)d). Nothing was saved.",
        size,
    )
    return notice % {"size": size, "limit": settings.XMPP_MAX_BODY_BYTES}


def unknown_jid_notice(bare: str) -> str | None:
    """How to link, told to a stranger once an hour at most, so strangers cannot make the bot talk a lot."""
    key = f"{settings.XMPP_REDIS_PREFIX}:unknown-notice:{bare}"
    try:
        first = redis_client().set(key, "1", nx=True, ex=UNKNOWN_JID_NOTICE_SECONDS)
    except redis.RedisError:
        log.warning("Redis unavailable; not answering unknown JID %s", bare)
        return None
    if not first:
        return None
    return _(
        "This address is not linked to a favsite account yet. Log in at %(url)s, add this address "
        "and send me the code it shows, like: link ABCD2345"
    ) % {"url": f"{settings.SITE_URL}/settings/im/"}


def slow_down_text() -> str:
    # Messages over the limit are dropped: say so.
    return _("Slow down: too many messages. This one was not saved; send it again in a minute.")


def saving_delayed_notice() -> str:
    """Told once to a sender whose message waits for the database (in the site's language: it is down)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Saving is delayed: the database is not answering. I kept your message and will save it when it is back."
        )

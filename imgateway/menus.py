"""The bot's commands as menus and forms (XEP-0050 ad-hoc commands): what each step shows and does.

Gajim, Cheogram, Converse.js and Profanity (``/cmd``) list a contact's ad-hoc
commands and show their forms; Conversations and Dino do not, so everything
here stays available as a text command too (``imgateway.commands``, whose
queries these steps reuse).

A step is a plain sync function of the linked user, the requester's bare JID,
the stage the command is at and the values of the form sent; it returns a
``Page``: a form to fill in (and the stage that reads it), or a result (a
table, a note). ``imgateway.bot.adhoc`` turns pages into XEP-0004 forms and
runs ``menu`` and ``step`` in the gateway's database thread; nothing here
knows about slixmpp. Pages are in the requester's language (the site's for
an address nobody linked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookmarks import services
from bookmarks.models import Bookmark
from bookmarks.preferences import speaking_to
from imgateway import commands, linking, saving
from imgateway.models import ChatSave, LinkedJid

START = "start"


@dataclass
class Field:
    """A XEP-0004 field: one to fill in, or (in a result) one to read."""

    var: str
    type: str = "text-single"
    label: str = ""
    value: str | bool | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    required: bool = False
    desc: str = ""


@dataclass
class Page:
    """What a step shows: a form whose answer ``next_stage`` reads, or (no next stage) the command's result.

    ``columns`` and ``rows`` make a table (a XEP-0004 reported/item list);
    ``more_stages`` says another form follows this one's answer (the client
    shows "next" rather than "finish").
    """

    title: str
    instructions: str = ""
    fields: list[Field] = field(default_factory=list)
    columns: list[Field] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    note: str = ""
    note_type: str = "info"  # info, warn or error (XEP-0050 note types)
    next_stage: str | None = None
    more_stages: bool = False


class Forbidden(Exception):
    """The requester may not use this command (the message says why, in the site's language)."""


Step = Callable[[Any, str, str, dict[str, Any]], Page]


@dataclass(frozen=True)
class Entry:
    node: str
    name: Promise
    step: Step
    linked_only: bool = True


def menu(bare: str) -> list[tuple[str, str]]:
    """The commands ``bare`` may use, as (node, name) in their language: all of them once linked, else how to link."""
    user = linked_user(bare)
    with speaking_to(user):
        if user is None:
            return [(LINK.node, str(LINK.name))]
        return [(entry.node, str(entry.name)) for entry in MENU]


def step(bare: str, node: str, stage: str, values: dict[str, Any]) -> Page:
    """Run ``node`` at ``stage`` for ``bare`` with the values of the form sent; ``Forbidden`` if not theirs to use."""
    entry = ENTRIES.get(node)
    user = linked_user(bare)
    if entry is None or (entry.linked_only and user is None):
        with speaking_to(None):
            raise Forbidden(_("Link this address to your favsite account first (the command “How to link”)."))
    with speaking_to(user):
        return entry.step(user, bare, stage, values)


def linked_user(bare: str) -> AbstractBaseUser | None:
    linked = LinkedJid.objects.filter(jid=bare).select_related("user__preferences").first()
    return linked.user if linked is not None else None


def text(value: Any) -> str:
    """A submitted value as text (a client may send a text-multi field as several values, or none)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(str(piece) for piece in value)
    return str(value)


def checked(value: Any) -> bool:
    """A submitted boolean: XEP-0004 says "1" or "true"."""
    return value is True or text(value).strip().lower() in ("1", "true")


def listing(title: str, bookmarks: list[Bookmark], web: str = "") -> Page:
    """A table of bookmarks (number, title, link), and where the web shows more."""
    page = Page(
        title,
        columns=[Field("id", label=_("Number")), Field("title", label=_("Title")), Field("url", label=_("Link"))],
        rows=[{"id": str(b.pk), "title": b.display_title, "url": b.url} for b in bookmarks],
    )
    if web:
        page.fields.append(Field("web", label=_("More on the web"), value=web))
    return page


def refusal(title: str, why: str) -> Page:
    """The end of a command that did nothing, and why (an error note)."""
    return Page(title, note=why, note_type="error")


def on_the_web(**query: str) -> str:
    """The address of the bookmark list, searched or filtered."""
    return f"{settings.SITE_URL}/bookmarks/?{urlencode(query)}"


# -- the commands ------------------------------------------------------------


def recent(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Recent bookmarks")
    if stage == START:
        count = Field(
            "count",
            "list-single",
            _("How many"),
            str(commands.RECENT_DEFAULT),
            [(str(n), str(n)) for n in range(1, commands.RECENT_MAX + 1)],
            required=True,
        )
        return Page(title, _("Your newest bookmarks, newest first."), [count], next_stage="list")
    number = text(values.get("count")).strip() or str(commands.RECENT_DEFAULT)
    if not (number.isascii() and number.isdigit() and len(number) <= 3):
        return refusal(title, _("How many: a number from 1 to %(n)d.") % {"n": commands.RECENT_MAX})
    bookmarks = commands.recent_bookmarks(user, int(number))
    if not bookmarks:
        return Page(title, note=_("You have no bookmarks yet. Send me a link!"))
    return listing(title, bookmarks)


def find(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Find bookmarks")
    if stage == START:
        query = Field("query", label=_("Search for"), required=True, desc=_("Words, “exact phrase”, #tag, -word"))
        return Page(title, _("Search your bookmarks."), [query], next_stage="results")
    query = " ".join(text(values.get("query")).split())
    if not query:
        return refusal(title, _("Usage: find WORDS, for example: find python asyncio"))
    bookmarks, _more = commands.find_bookmarks(user, query)
    if not bookmarks:
        return Page(title, note=_("Nothing found for “%(query)s”.") % {"query": query})
    return listing(title, bookmarks, on_the_web(q=query))


def tags(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Your tags")
    counted = commands.tag_counts(user)
    if not counted:
        return Page(title, note=_("You have no tags yet. Add #words to a link to tag it."))
    return Page(
        title,
        columns=[Field("tag", label=_("Tag")), Field("count", label=_("Bookmarks")), Field("url", label=_("Link"))],
        rows=[{"tag": f"#{tag.name}", "count": str(tag.n), "url": on_the_web(tag=tag.name)} for tag in counted],
    )


def add(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Add a link")
    if stage == START:
        fields = [
            Field("url", label=_("Link"), required=True),
            Field("tags", label=_("Tags"), desc=_("Separated by spaces or commas")),
            Field("note", "text-multi", _("Note")),
            Field("later", "boolean", _("Read later (mark it unread)"), False),
        ]
        return Page(title, _("Save a link in your collection."), fields, next_stage="save")
    url = text(values.get("url")).strip()
    if not url:
        return refusal(title, _("Give a link to save."))
    try:
        prepared = services.prepare_save(
            user,
            url,
            tags=text(values.get("tags")),
            note=text(values.get("note")),
            source=Bookmark.Source.IM,
            unread=True if checked(values.get("later")) else None,
        )
    except services.InvalidURL as exc:
        return refusal(title, _("Not saved: %(url)s (%(reason)s)") % {"url": url, "reason": exc})
    result = save_from_menu(user, bare, prepared)
    if result.created:
        answer = _("Saved: %(title)s\n%(url)s") % {"title": result.bookmark.display_title, "url": result.bookmark.url}
    else:
        answer = saving.already_saved_line(result.bookmark, result.first_saved_at)
    return Page(title, note=answer)


def save_from_menu(user: AbstractBaseUser, bare: str, prepared: services.PreparedSave) -> services.SaveResult:
    """Save as a chat message does (its fetch queued on commit), with a record so that ``undo`` can take it back.

    The record counts as answered (``sent_at``): the form said "Saved" already, no confirmation follows; it
    has no message id, so no correction or retraction ever names it.
    """
    with transaction.atomic():
        result = services.save_prepared([prepared])[0]
        record = ChatSave(
            user=user,
            jid=bare,
            bare_jid=bare,
            tags=prepared.tag_names,
            note=prepared.bookmark.note,
            sent_at=timezone.now(),
        )
        saving.record_saves([(record, [result])])
    return result


def delete(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Delete or undo")
    if stage == START:
        fields = [
            Field("ids", label=_("Bookmark number"), desc=_("As shown by recent or find; several separated by spaces")),
            Field("undo", "boolean", _("Undo: delete the last link saved from this address"), False),
        ]
        return Page(title, _("Delete bookmarks by number, or undo the last save."), fields, next_stage="delete")
    numbers, undo = text(values.get("ids")).strip(), checked(values.get("undo"))
    ids = commands.bookmark_ids(numbers)
    if numbers and not ids:
        return refusal(title, _("Usage: del ID (the number shown by recent or find)"))
    if not ids and not undo:
        return refusal(title, _("Give a bookmark number, or choose undo."))
    answers = [commands.undo_last(user, bare)] if undo else []
    if ids:
        answers.append(commands.delete_numbered(user, ids))
    return Page(title, note="\n".join(answers))


def account(user: AbstractBaseUser, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("Linked account")
    name = user.get_username()
    if stage == START:
        fields = [
            Field("account", "fixed", value=_("Account: %(name)s") % {"name": name}),
            Field("address", "fixed", value=_("This address: %(jid)s") % {"jid": bare}),
            Field(
                "action",
                "list-single",
                _("What to do"),
                "keep",
                [("keep", _("Keep it linked")), ("unlink", _("Unlink this address"))],
                required=True,
            ),
        ]
        return Page(title, fields=fields, next_stage="choose", more_stages=True)
    if stage == "choose" and text(values.get("action")).strip() == "unlink":
        ask = _("Unlink %(jid)s from %(name)s? Links sent from this address will no longer be saved.")
        confirm = Field("confirm", "boolean", _("Yes, unlink this address"), False)
        return Page(title, ask % {"jid": bare, "name": name}, [confirm], next_stage="confirm")
    if stage == "confirm" and checked(values.get("confirm")):
        linking.unlink(user, bare)
        return Page(title, note=commands.unlinked_text(user))
    return Page(title, note=_("Nothing changed."))


def link(user: AbstractBaseUser | None, bare: str, stage: str, values: dict[str, Any]) -> Page:
    title = _("How to link")
    if user is not None:
        return Page(title, note=_("This address is linked to %(name)s.") % {"name": user.get_username()})
    if stage == START:
        how = _(
            "Log in at %(url)s, add this address, and type the code the page shows here (or send me: link CODE)."
        ) % {"url": f"{settings.SITE_URL}/settings/im/"}
        return Page(title, how, [Field("code", label=_("Code"), required=True)], next_stage="code")
    return Page(title, note=linking.link_with_code(bare, text(values.get("code"))))


MENU = (
    Entry("recent", gettext_lazy("Recent bookmarks"), recent),
    Entry("find", gettext_lazy("Find bookmarks"), find),
    Entry("tags", gettext_lazy("Your tags"), tags),
    Entry("add", gettext_lazy("Add a link"), add),
    Entry("delete", gettext_lazy("Delete or undo"), delete),
    Entry("account", gettext_lazy("Linked account"), account),
)
LINK = Entry("link", gettext_lazy("How to link"), link, linked_only=False)
ENTRIES = {entry.node: entry for entry in (*MENU, LINK)}

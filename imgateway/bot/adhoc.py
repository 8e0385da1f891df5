"""Commands as menus: the bot's XEP-0050 ad-hoc commands, with XEP-0004 forms (``imgateway.menus`` says what).

Listing. A client asks for the items of the node
``http://jabber.org/protocol/commands`` (XEP-0030) at the bot's full JID.
xep_0050 keeps one static list for everybody; we answer that node ourselves
(``set_node_handler("get_items", ...)``, xep_0030's public hook), with a
coroutine: slixmpp awaits a coroutine node handler, so the handler asks the
database thread (``backlog.call(menus.menu, ...)``) who is asking. A linked
address gets every command, in its owner's language; any other gets only
"How to link". No copy of the links is kept in memory, and nothing touches
the database on the event loop.

Running. xep_0050 calls the handler given to ``add_command`` for a new
session, and ``session["next"]`` for each form sent back; both hand the work
to ``menus.step`` in the database thread. A command the requester may not
use (``menus.Forbidden``, checked at every step, so an address unlinked
meanwhile cannot go on) is refused with a ``forbidden`` error, not only
left out of the list. Sessions live in memory, the newest ``MAX_SESSIONS``
of them: a person who walks away from a form leaves nothing behind for
good. Their ids are random (uuid4), and each step acts for the address that
started the session.

The commands are offered at the JID the session binds (``session_bind``):
the resource is fixed by configuration, but the server has the last word.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.utils import translation
from slixmpp import JID
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0004 import Form
from slixmpp.plugins.xep_0030.stanza import DiscoItems
from slixmpp.plugins.xep_0050 import Command

from imgateway import menus

log = logging.getLogger(__name__)

MAX_SESSIONS = 1000


class RecentSessions(OrderedDict):
    """xep_0050's session store (``set_backend``), keeping the newest ``MAX_SESSIONS``."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > MAX_SESSIONS:
            self.popitem(last=False)


def install(bot: Any) -> None:
    """Offer the commands at each JID the bot binds (once per JID: the static disco entries add up)."""
    bot.plugin["xep_0050"].set_backend(RecentSessions())
    offered: set[str] = set()

    def on_bind(jid: JID) -> None:
        if jid.full not in offered:
            offered.add(jid.full)
            offer(bot, JID(jid.full))

    bot.add_event_handler("session_bind", on_bind)


def offer(bot: Any, jid: JID) -> None:
    adhoc = bot.plugin["xep_0050"]
    with translation.override(settings.LANGUAGE_CODE):  # the name in the command's disco#info
        for entry in menus.ENTRIES.values():
            adhoc.add_command(jid=jid, node=entry.node, name=str(entry.name), handler=functools.partial(start, bot))
    bot.plugin["xep_0030"].set_node_handler("get_items", jid, Command.namespace, functools.partial(list_for, bot))


async def list_for(bot: Any, jid: JID, node: str, ifrom: JID | None, _args: Any) -> DiscoItems:
    """The commands the requester may use (a disco#items answer)."""
    entries = await bot.backlog.call(menus.menu, ifrom.bare if ifrom else "")
    items = DiscoItems()
    items["node"] = node
    for command_node, name in entries:
        items.add_item(jid.full, command_node, name)
    return items


async def start(bot: Any, iq: Any, session: dict[str, Any]) -> dict[str, Any]:
    session["stage"] = menus.START
    return await show(bot, session, {})


async def proceed(bot: Any, payload: Any, session: dict[str, Any]) -> dict[str, Any]:
    """A form sent back (``next`` or ``complete``): the next page."""
    return await show(bot, session, values_of(payload))


async def show(bot: Any, session: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Run the session's stage and put the page in the session (changed in place: ``complete`` reads it so)."""
    try:
        page = await bot.backlog.call(menus.step, session["from"].bare, session["node"], session["stage"], values)
    except menus.Forbidden as refused:
        log.info("ad-hoc command %s refused to %s", session["node"], session["from"].bare)
        raise XMPPError("forbidden", text=str(refused)) from None
    session["payload"] = form_of(bot, page)
    session["notes"] = [(page.note_type, page.note)] if page.note else None
    session["stage"] = page.next_stage
    session["next"] = functools.partial(proceed, bot) if page.next_stage else None
    session["has_next"] = page.more_stages
    session["allow_complete"] = False
    return session


def values_of(payload: Any) -> dict[str, Any]:
    """The values of the form in a command's payload (none when it has no form)."""
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, Form):
            return dict(item.get_values())
    return {}


def form_of(bot: Any, page: menus.Page) -> Form | None:
    """The XEP-0004 form of ``page``: to fill in while a stage follows, else a result; None for a bare note."""
    if not (page.fields or page.columns or page.instructions):
        return None
    form = bot.plugin["xep_0004"].make_form(
        ftype="form" if page.next_stage else "result", title=page.title, instructions=page.instructions
    )
    for spec in page.fields:
        options = [{"value": value, "label": label} for value, label in spec.options] or None
        added = form.add_field(
            var=spec.var, ftype=spec.type, label=spec.label, desc=spec.desc, required=spec.required, options=options
        )
        if spec.value is not None:
            added["value"] = spec.value
    for column in page.columns:
        form.add_reported(column.var, ftype=column.type, label=column.label)
    for row in page.rows:
        form.add_item(row)
    return form

"""How the bot presents itself to chat clients: a name and an avatar, a bot identity, a software version.

Clients show a contact's nickname and avatar from its vCard (XEP-0054, with
the avatar's hash in every presence, XEP-0153) or from its avatar node
(XEP-0084); service discovery (XEP-0030) says it is a bot, and it answers
software version queries (XEP-0092). The status line of its presence says
how to use it (``GatewayBot.status_line``).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from slixmpp.exceptions import IqError, IqTimeout

import favsite

log = logging.getLogger(__name__)

NICKNAME = "favsite"
AVATAR = Path(settings.BASE_DIR) / "static" / "img" / "avatar.png"
AVATAR_SIZE = 96  # pixels, square
VERSION_CONFIG = {"software_name": "favsite", "version": favsite.__version__, "os": ""}


def describe(bot: Any) -> None:
    """Before connecting: the disco identity of a bot, under its name.

    Set before the session binds: the entity capabilities (XEP-0115) that
    the PEP plugins compute at bind time then include it; set later, the
    answer to a disco query left it out.
    """
    bot.plugin["xep_0030"].add_identity(category="client", itype="bot", name=NICKNAME)


async def publish(bot: Any) -> None:
    """At every login: the vCard (nickname, site, avatar) and the XEP-0084 avatar, if they changed."""
    avatar = AVATAR.read_bytes()
    try:
        await _publish_vcard(bot, avatar)
        await _publish_avatar(bot, avatar)
    except (IqError, IqTimeout) as exc:  # a server without vCards or PEP: the bare address still works
        log.warning("could not publish the bot's profile (%s)", exc)


async def _publish_vcard(bot: Any, avatar: bytes) -> None:
    vcards = bot.plugin["xep_0054"]
    current = (await vcards.get_vcard(bot.boundjid.bare, cached=False))["vcard_temp"]
    if current["NICKNAME"] == [NICKNAME] and current["PHOTO"]["BINVAL"] == avatar:
        return
    vcard = vcards.make_vcard()
    vcard["FN"] = vcard["NICKNAME"] = NICKNAME
    vcard["URL"] = settings.SITE_URL
    vcard["DESC"] = "Send me a link to save it in favsite; send help for commands."
    await vcards.publish_vcard(vcard)
    # Adds the photo to the vCard and its hash to the bot's presence (XEP-0153).
    await bot.plugin["xep_0153"].set_avatar(avatar=avatar, mtype="image/png")


async def _publish_avatar(bot: Any, avatar: bytes) -> None:
    avatars = bot.plugin["xep_0084"]
    await avatars.publish_avatar(avatar)
    await avatars.publish_avatar_metadata(
        [
            {
                "id": hashlib.sha1(avatar).hexdigest(),  # noqa: S324 (XEP-0084 names an avatar by its SHA-1)
                "type": "image/png",
                "bytes": str(len(avatar)),
                "width": str(AVATAR_SIZE),
                "height": str(AVATAR_SIZE),
            }
        ]
    )

"""The bot's address on every page that names it (landing page, settings, chat addresses)."""

from __future__ import annotations

from django.http import HttpRequest

from imgateway.views import bot_address


def bot(request: HttpRequest) -> dict[str, str]:
    return {"bot_jid": bot_address()}

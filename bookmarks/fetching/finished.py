"""Finished fetches of links saved from chat, announced on a Redis stream for the gateway to confirm.

The code that records a fetch's final result adds an entry here once that
result has committed (``services.fetches``). The gateway reads the stream
with a consumer group and sends each chat save's confirmation when all its
links are done (``imgateway.confirmations``). An entry lost with Redis is
made good by the gateway's beat sweep: the chat save's row says what was
never sent.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from favsite.redis import redis_client

log = logging.getLogger(__name__)

# Entries kept at most (about 100 bytes each); the consumer group remembers what the gateway read.
STREAM_MAXLEN = 100_000


def stream_name() -> str:
    """The stream's key, under the gateway's prefix: the gateway owns it (``XMPP_REDIS_PREFIX``)."""
    return f"{settings.XMPP_REDIS_PREFIX}:fetched"


def announce(bookmark_ids: list[int], *, chat_save: int | None = None) -> None:
    """Add an entry naming these bookmarks (or, from the sweep, one chat save); a Redis error is logged."""
    fields = {"bookmarks": " ".join(str(pk) for pk in bookmark_ids)}
    if chat_save is not None:
        fields["save"] = str(chat_save)
    try:
        redis_client().xadd(stream_name(), fields, maxlen=STREAM_MAXLEN, approximate=True)
    except redis.RedisError:
        log.warning("could not announce the fetches of %s; the gateway's sweep confirms them later", bookmark_ids)

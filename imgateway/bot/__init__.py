"""The XMPP side of the gateway: slixmpp at the edge, the database work in a thread of its own.

- ``config``: the connection settings (``GatewayConfig``);
- ``client``: ``GatewayBot``, connecting and reconnecting, messages in, replies out, presence;
- ``backlog``: the database thread the messages wait for, and back-pressure;
- ``catchup``: what was sent while the gateway was away, from the server's archive;
- ``outbox``: confirmations, from the stream of finished fetches;
- ``pacing``: reconnection backoff, the rate limit per sender, "composing";
- ``upkeep``: a ping when the line is quiet, and the archive mark moved on.
"""

from imgateway.bot.client import GatewayBot, run_gateway
from imgateway.bot.config import GatewayConfig

__all__ = ["GatewayBot", "GatewayConfig", "run_gateway"]

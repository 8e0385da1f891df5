"""``Incoming``: a chat message as the bot hands it to the database thread (``imgateway.messages``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Incoming:
    sender: str  # the full JID the server stamped in ``from``
    body: str
    oob_urls: list[str] = field(default_factory=list)
    message_id: str = ""
    # The id our server's archive gave it (XEP-0359); empty when the server keeps no archive.
    archive_id: str = ""
    origin_id: str = ""  # the sender's own stable id for it (XEP-0359)
    replaces: str = ""  # a correction (XEP-0308): the id of the message it corrects
    retracts: str = ""  # a retraction (XEP-0424): the id of the message taken back

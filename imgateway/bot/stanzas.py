"""Reading a chat message stanza: its text, links and ids, and the message it corrects or retracts."""

from __future__ import annotations

from slixmpp.stanza import Message

from imgateway.incoming import Incoming

OOB = "{jabber:x:oob}x"
ORIGIN_ID = "{urn:xmpp:sid:0}origin-id"
REPLACE = "{urn:xmpp:message-correct:0}replace"  # XEP-0308
RETRACT = "{urn:xmpp:message-retract:1}retract"  # XEP-0424 since 0.4
# XEP-0424 before 0.4 (still sent by older clients): <apply-to id="…"><retract xmlns="…:0"/></apply-to>
APPLY_TO = "{urn:xmpp:fasten:0}apply-to"
RETRACT_V0 = "{urn:xmpp:message-retract:0}retract"


def incoming_from(msg: Message, archive_id: str) -> Incoming | None:
    """The chat message as the database thread takes it; None when it carries nothing to act on.

    A retraction's body is only a fallback text for clients that do not
    know retractions: it is not read.
    """
    retracts = retracted_id(msg)
    oob = msg["oob"]["url"] if msg.xml.find(OOB) is not None else ""
    body = "" if retracts else msg["body"] or ""
    if not retracts and not body.strip() and not oob:
        return None  # chat states, receipts and other body-less messages
    return Incoming(
        str(msg["from"]),
        body,
        [oob] if oob else [],
        msg["id"] or "",
        archive_id,
        origin_id=_attribute(msg.xml.find(ORIGIN_ID), "id"),
        replaces=_attribute(msg.xml.find(REPLACE), "id"),
        retracts=retracts,
    )


def retracted_id(msg: Message) -> str:
    """The id of the message this one retracts, or ""."""
    retract = msg.xml.find(RETRACT)
    if retract is not None:
        return retract.get("id") or ""
    apply_to = msg.xml.find(APPLY_TO)
    if apply_to is not None and apply_to.find(RETRACT_V0) is not None:
        return apply_to.get("id") or ""
    return ""


def _attribute(element, name: str) -> str:
    return (element.get(name) or "")[:200] if element is not None else ""

"""Linked chat addresses, link codes, saves awaiting a confirmation, and the messages handled."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

LINK_CODE_LIFETIME = timedelta(minutes=15)
LINK_CODE_MAX_ATTEMPTS = 5
# No 0/O or 1/I/L: people type these codes from a screen into a chat window.
LINK_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LINK_CODE_LENGTH = 8


class LinkedJid(models.Model):
    """A bare JID its owner proved control of; messages from it act for ``user``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linked_jids")
    jid = models.CharField(max_length=3071, unique=True)  # bare, normalised by slixmpp's JID
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.jid


class LinkCode(models.Model):
    """A one-time code that links ``jid`` to ``user`` when sent from that JID."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="link_codes")
    jid = models.CharField(max_length=3071)
    code = models.CharField(max_length=16)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "jid"], name="linkcode_one_per_user_and_jid")]
        indexes = [models.Index(fields=["jid"], name="linkcode_jid")]

    def __str__(self) -> str:
        return f"{self.jid} ({self.user_id})"

    @staticmethod
    def new_code() -> str:
        return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))

    def matches(self, typed: str) -> bool:
        """Constant-time comparison, ignoring case and spaces people add."""
        cleaned = "".join(typed.split()).upper()
        return hmac.compare_digest(cleaned.encode(), self.code.encode())


class ChatSave(models.Model):
    """One chat message that saved links: what it saved (``items``), what it said, and its confirmation.

    A message that created bookmarks is confirmed once every created item's
    fetch has ended; the confirmation goes to ``jid`` (the full JID, so the
    resource that sent the link gets the answer). ``lines`` holds what the
    immediate reply would have said (duplicates, refused pieces), so the one
    confirmation lists everything the message held. A message that only
    saved links again was answered at once (``sent_at`` set on creation).
    ``message_id``, ``origin_id``, ``tags`` and ``note`` let a correction (XEP-0308) or a
    retraction (XEP-0424) of the message act on what it saved.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    jid = models.CharField(max_length=3071)
    bare_jid = models.CharField(max_length=3071)
    message_id = models.CharField(max_length=200, blank=True)
    # The message's XEP-0359 origin id: a retraction (XEP-0424) names the message by it.
    origin_id = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    lines = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Complete while its owner was busy (presence "dnd"): waits for the digest (``imgateway.busy``).
    held_at = models.DateTimeField(null=True, blank=True)
    # When the beat sweep last named it on the stream of finished fetches (it stayed unsent).
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["sent_at", "created_at"], name="chatsave_unsent"),
            models.Index(fields=["bare_jid", "-created_at"], name="chatsave_jid_newest"),
            models.Index(fields=["bare_jid", "message_id"], name="chatsave_jid_message"),
            models.Index(fields=["bare_jid", "origin_id"], name="chatsave_jid_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.jid} {self.created_at:%Y-%m-%d %H:%M}"


class ChatSaveItem(models.Model):
    """A bookmark a chat message saved: ``created`` it (``undo`` removes the newest such), or saved it again."""

    chat_save = models.ForeignKey(ChatSave, on_delete=models.CASCADE, related_name="items")
    bookmark = models.ForeignKey("bookmarks.Bookmark", null=True, on_delete=models.SET_NULL, related_name="+")
    url = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    created = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.url


class ReceivedMessage(models.Model):
    """A chat message the gateway handled, by the id our server's archive gave it (XEP-0359 stanza-id).

    Recorded in the transaction of the message's effect, so a message that
    comes again (from offline storage, or when the gateway catches up from
    the archive after a restart) is recognised and left alone. Records older
    than the catch-up window go in the gateway's sweep.
    """

    archive_id = models.CharField(max_length=255, unique=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.archive_id} {self.received_at:%Y-%m-%d %H:%M}"


class ArchiveMark(models.Model):
    """How far the gateway of one bot account has handled its server's message archive.

    Every message the server archived for ``jid`` before ``handled_before``
    was handled. The gateway moves it on while it is online with nothing in
    hand, and catches up from a little before it after a restart.
    """

    jid = models.CharField(max_length=3071, unique=True)  # the bot's bare JID
    handled_before = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.jid}: {self.handled_before:%Y-%m-%d %H:%M:%S}"

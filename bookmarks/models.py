"""Bookmarks and tags. Rows are written only through ``bookmarks.services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookmarks.bigrams import text_pairs
from bookmarks.normalize import fallback_title

TAG_MAX_LENGTH = 64


class Tag(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="tag_unique_name_per_owner_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class Bookmark(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Fetching title")
        OK = "ok", _("OK")
        FAILED = "failed", _("Title not found")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        IM = "im", _("Chat")
        IMPORT = "import", _("Import")
        API = "api", _("API")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    # The URL as the person sent it; it is what the bookmark links to.
    url = models.TextField()
    # The de-duplication key (bookmarks.normalize.normalize_url) and its digest,
    # which carries the per-owner unique index (a URL can outgrow a btree row).
    normalized_url = models.TextField()
    url_hash = models.CharField(max_length=64)
    # ``title`` is what the person typed and is never overwritten by a fetch;
    # ``page_title`` is what the page says. ``display_title`` picks.
    title = models.CharField(max_length=500, blank=True)
    page_title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    note = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="bookmarks")
    site_name = models.CharField(max_length=200, blank=True)
    favicon_url = models.TextField(blank=True)
    image_url = models.TextField(blank=True)
    final_url = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fetch_error = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    # Kept from imports and the Pinboard API (PRIVATE / TOREAD, ``shared`` /
    # ``toread``) so an export gives them back; the site has no public pages.
    is_private = models.BooleanField(default=False)
    unread = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # When the row last changed (the live list asks "what changed since"): set by bookmarks.services on
    # every write, not auto_now, so an import can keep the file's LAST_MODIFIED.
    updated_at = models.DateTimeField(default=timezone.now)
    # When it was last saved: re-saving a URL moves the bookmark to the top.
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "url_hash"], name="bookmark_unique_url_per_owner"),
        ]
        indexes = [
            models.Index(fields=["owner", "-added_at", "-id"], name="bookmark_owner_newest"),
            models.Index(fields=["status", "updated_at"], name="bookmark_status_updated"),
            # The list page's live updates ask "what changed since" per owner.
            models.Index(fields=["owner", "updated_at"], name="bookmark_owner_updated"),
            # The list's ?unread=1 and ?private=1 (a few per cent of a collection): their pages and counts.
            models.Index(
                fields=["owner", "-added_at", "-id"], name="bookmark_owner_unread", condition=models.Q(unread=True)
            ),
            models.Index(
                fields=["owner", "-added_at", "-id"], name="bookmark_owner_private", condition=models.Q(is_private=True)
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or self.page_title or fallback_title(self.url)

    @property
    def host(self) -> str:
        return fallback_title(self.url).split("/", 1)[0]


class PageText(models.Model):
    """The readable text of a bookmark's page, in its own table: the list never reads it.

    One row per bookmark once its text was asked for. ``state`` says what
    happened: ``pending`` (queued), ``kept`` (``text`` holds it), ``empty``
    (an HTML page without readable text), ``not_text`` (a PDF, an image...:
    no body is read), ``failed`` (the fetch failed; ``error`` says why).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Keeping the text")
        KEPT = "kept", _("Text kept")
        EMPTY = "empty", _("No readable text found")
        NOT_TEXT = "not_text", _("Not a web page: no text kept")
        FAILED = "failed", _("The text could not be fetched")

    # The bookmark's id is this row's id (on SQLite, its rowid: the FTS table's key).
    bookmark = models.OneToOneField(Bookmark, on_delete=models.CASCADE, primary_key=True, related_name="page_text")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    text = models.TextField(blank=True)
    # SQLite only: the text's non-ASCII two-character pieces, for two-character terms (bookmarks.bigrams).
    pairs = models.TextField(blank=True, default="")
    # A BCP 47 code from the page (``<html lang>``) or guessed from its script; empty when unknown.
    language = models.CharField(max_length=35, blank=True)
    word_count = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # When the text was extracted (kept, or found missing); when the row was last queued.
    extracted_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "queued_at"], name="pagetext_state_queued")]

    def __str__(self) -> str:
        return f"text of {self.bookmark_id} ({self.state})"

    def save(self, *args, **kwargs) -> None:
        # The pairs follow the text wherever a row is saved (bulk writes set them themselves).
        self.pairs = pairs_for(self.text)
        super().save(*args, **kwargs)


def pairs_for(text: str) -> str:
    """What ``PageText.pairs`` holds for ``text`` on this database (empty on PostgreSQL, which indexes the text)."""
    from django.db import connection

    return text_pairs(text) if connection.vendor == "sqlite" else ""


class LinkHealth(models.Model):
    """What the last periodic check of a bookmark's link found (``bookmarks.services.health``), in its own table.

    ``outcome`` is the last check's: ``ok``; ``moved`` (it answers, after
    redirects, at ``final_url``); ``gone`` (404/410); ``failing`` (5xx, DNS,
    connection, TLS, timeout); ``refused`` (the address policy forbids it: we
    cannot tell). ``broken`` is set once failures were seen on two checks
    ``LINK_CHECK_CONFIRM_HOURS`` apart (one is enough when that is 0).
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("OK")
        MOVED = "moved", _("Moved")
        GONE = "gone", _("Gone")
        FAILING = "failing", _("Failing")
        REFUSED = "refused", _("Not checked (address refused)")

    bookmark = models.OneToOneField(Bookmark, on_delete=models.CASCADE, primary_key=True, related_name="health")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    broken = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    # The first failed check of the current run of failures, and how many in a row.
    failing_since = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["next_check_at"], name="linkhealth_next_check"),
            models.Index(fields=["broken"], name="linkhealth_broken", condition=models.Q(broken=True)),
            models.Index(fields=["outcome"], name="linkhealth_moved", condition=models.Q(outcome="moved")),
        ]

    def __str__(self) -> str:
        return f"link of {self.bookmark_id}: {self.outcome}{' (broken)' if self.broken else ''}"


class AccessToken(models.Model):
    """Per-user secrets: the API token (REST and Pinboard API) and the feed token."""

    class Kind(models.TextChoices):
        API = "api", _("API")
        FEED = "feed", _("Feed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "kind"], name="access_token_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.kind}"


class ImportJob(models.Model):
    """One uploaded import, run by a Celery task; the page polls its progress."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE_STATES = ("queued", "running")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    file_name = models.CharField(max_length=255, blank=True)
    # The uploaded file is kept in ImportPart rows until the task has read it.
    folders_as_tags = models.BooleanField(default=False)
    fetch_missing_titles = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Up to a few dozen "reason: url" lines, for the page to show.
    messages = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved by every progress write: an active job that stopped moving is given up (import_jobs.start_import).
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One import waiting or running per person, whatever requests race.
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(state__in=("queued", "running")),
                name="one_active_import_per_owner",
            )
        ]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.state})"


class ImportPart(models.Model):
    """A piece of an uploaded file, in order: the file is written and read a piece at a time,
    so neither the web process nor the worker holds it whole (and any worker can read it)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="import_part_order")]

    def __str__(self) -> str:
        return f"import {self.job_id} part {self.number}"


class Preferences(models.Model):
    """What a person chose in settings, for the processes that have no browser (the chat bot).

    The web reads the language and time zone from cookies (set by the same
    settings forms), so pages need no query for them.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    # A code from settings.LANGUAGES, or empty for "the site default".
    language = models.CharField(max_length=16, blank=True)
    # An IANA zone name, or empty for "the browser's" (the bot then uses TIME_ZONE).
    time_zone = models.CharField(max_length=64, blank=True)
    # Chat confirmations wait while the person's presence is "do not disturb", then come as one digest.
    hold_when_busy = models.BooleanField(default=True)
    # The readable text of each saved page is kept (``bookmarks.services.texts``); off deletes what was kept.
    keep_text = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'} {self.time_zone or '-'}"


class Favicon(models.Model):
    """The icon of one site (host), fetched by the worker (``bookmarks.services.favicons``) and served by us.

    One row per host, shared by every bookmark and every user on that host.
    ``image`` holds a small PNG we drew ourselves from the site's icon (never
    the site's own bytes), ``digest`` its SHA-256 (the ETag, and the version
    in the icon's URL); both are empty while the host has no usable icon.
    ``queued_at`` is set while a fetch is owed; ``checked_at`` is when the
    last one ended, and ``error`` what it found wrong.
    """

    host = models.CharField(max_length=300, unique=True)
    # Where to look: first the icon the page that asked for it names (<link rel=icon>), then /favicon.ico at
    # ``origin`` (the scheme, host and port that page came from).
    page_icon_url = models.TextField(blank=True)
    origin = models.TextField(blank=True)
    image = models.BinaryField(blank=True, default=b"")
    digest = models.CharField(max_length=64, blank=True)
    source_url = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"icon of {self.host}{'' if self.digest else ' (none)'}"

"""Site icons: one ``Favicon`` row per host, owed after a title fetch, fetched once, refreshed rarely.

The row is the durable record, as the bookmark row is for the title fetch:
``queued_at`` set means a fetch is owed. The code that records a final title
fetch calls ``after_title_fetch``, which claims the host's row with a
conditional write (created, or due again) and queues ``fetch_favicon`` after
commit on its own queue at the lowest priority: the title and the chat
confirmation never wait for an icon, and a thousand bookmarks on one host
make one fetch. A host's icon is fetched again after
``FAVICON_REFRESH_DAYS``; a host without a usable icon is asked again after
a day; a claim lost with Redis or a dead worker is sent again an hour later
by the beat (``sweep_favicons``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookmarks.models import Bookmark, Favicon
from bookmarks.services.publish import publish

if TYPE_CHECKING:  # the fetchers (lxml, Pillow) are the worker's alone
    from bookmarks.fetching.favicons import FoundIcon
    from bookmarks.fetching.metadata import PageMetadata

log = logging.getLogger(__name__)

FAVICON_TASK = "bookmarks.tasks.fetch_favicon"
FAVICON_QUEUE = "favicon"
# Redis takes priority 0 first and 9 last, across all the queues a worker reads.
FAVICON_PRIORITY = 9
CLAIM_STALE_AFTER = timedelta(hours=1)
MISSING_RETRY_AFTER = timedelta(days=1)
HOST_MAX_LENGTH = 300
# The digest's first characters in the list's icon URLs (``?v=``): a new icon is a new URL.
VERSION_LENGTH = 16
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The host an icon belongs to: lower case, ASCII (punycode), with the port unless it is the scheme's own."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return ""
    if not host:
        return ""
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return ""
    if ":" in host:
        host = f"[{host}]"
    if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host[:HOST_MAX_LENGTH]


def origin_of(url: str, host: str) -> str:
    """Scheme, host and port of ``url`` (``host_of`` it), without the user name and password a link may carry."""
    return f"{urlsplit(url).scheme.lower()}://{host}"


def after_title_fetch(page_url: str, metadata: PageMetadata) -> bool:
    """Called by the code that records a final title fetch: owe the icon of the page's host if it is due.

    Nothing when no server answered (refused by the address policy, no DNS,
    no connection: asking for its icon would fare no better). Whether a
    fetch was queued.
    """
    if metadata.http_status is None:
        return False
    final_url = metadata.final_url or page_url
    host = host_of(final_url)
    if not host:
        return False
    origin = origin_of(final_url, host)
    if not claim(host, origin=origin, page_icon_url=metadata.favicon_url):
        return False
    transaction.on_commit(lambda: send_favicons([host]))
    return True


def claim(host: str, *, origin: str, page_icon_url: str, now: datetime | None = None) -> bool:
    """Mark ``host``'s icon owed if it has no row yet or is due again; whether this call claimed it.

    The row is created, or updated only where it is due, in one statement:
    of two fetches of pages on one host recording at once, one claims it.
    """
    now = now or timezone.now()
    place = {"origin": origin[:2000], "page_icon_url": page_icon_url}
    _row, created = Favicon.objects.get_or_create(host=host, defaults={**place, "queued_at": now})
    if created:
        return True
    refresh = timedelta(days=settings.FAVICON_REFRESH_DAYS)
    due = Q(queued_at__isnull=True) & (
        Q(checked_at__lt=now - refresh) | Q(digest="", checked_at__lt=now - MISSING_RETRY_AFTER)
    )
    lost = Q(queued_at__lt=now - CLAIM_STALE_AFTER)
    return bool(Favicon.objects.filter(due | lost, host=host).update(queued_at=now, **place))


def hosts_without_icons(user: AbstractBaseUser | None = None) -> dict[str, tuple[str, str]]:
    """Hosts of fetched bookmarks (``user``'s, or everyone's) that have no icon row yet: host -> (origin, page icon).

    For bookmarks saved before icons were fetched (``manage.py fetch_favicons``).
    """
    bookmarks = Bookmark.objects.exclude(http_status=None)
    if user is not None:
        bookmarks = bookmarks.filter(owner=user)
    known = set(Favicon.objects.values_list("host", flat=True))
    owed: dict[str, tuple[str, str]] = {}
    for final_url, url, page_icon_url in bookmarks.values_list("final_url", "url", "favicon_url").iterator():
        host = host_of(final_url or url)
        if host and host not in known and host not in owed:
            owed[host] = (origin_of(final_url or url, host), page_icon_url)
    return owed


def send_favicons(hosts: Iterable[str]) -> None:
    """Publish one icon task per host at the lowest priority; after a failure the claim expires and is taken again."""
    args = [(host,) for host in hosts]
    publish(FAVICON_TASK, args, queue=FAVICON_QUEUE, priority=FAVICON_PRIORITY, then="a later fetch asks again")


def sweep_favicons(now: datetime | None = None, limit: int = 100) -> int:
    """Beat: send again the icon fetches claimed over an hour ago and never recorded (lost with Redis or a worker)."""
    now = now or timezone.now()
    lost = Favicon.objects.filter(queued_at__lt=now - CLAIM_STALE_AFTER)
    hosts = list(lost.order_by("queued_at").values_list("host", flat=True)[:limit])
    if hosts:
        Favicon.objects.filter(host__in=hosts).update(queued_at=now)
        send_favicons(hosts)
    return len(hosts)


def begin_favicon(host: str) -> Favicon | None:
    """The row of ``host`` if its icon is owed; None when it is not (a duplicate delivery, say)."""
    return Favicon.objects.filter(host=host, queued_at__isnull=False).defer("image").first()


def record_favicon(row: Favicon, found: FoundIcon, now: datetime | None = None) -> bool:
    """Store what an icon fetch found, if the claim ``row`` was read under still holds; whether it was written.

    A new icon replaces the old one. A site that answered with no usable icon
    loses the one it had (the default icon shows); a timeout or a dropped
    connection keeps it.
    """
    now = now or timezone.now()
    fields: dict[str, object] = {"queued_at": None, "checked_at": now, "error": found.error[:500]}
    if found.png:
        fields.update(image=found.png, digest=hashlib.sha256(found.png).hexdigest(), source_url=found.source_url)
    elif not found.retryable:
        fields.update(image=b"", digest="", source_url="")
    return bool(Favicon.objects.filter(pk=row.pk, queued_at=row.queued_at).update(**fields))


def icon_digests(hosts: Iterable[str]) -> dict[str, str]:
    """The digest of each of these hosts' icons, for those that have one: one query."""
    wanted = {host for host in hosts if host}
    if not wanted:
        return {}
    rows = Favicon.objects.filter(host__in=wanted).exclude(digest="").values_list("host", "digest")
    return dict(rows)


def icon_of(host: str) -> Favicon | None:
    """The row of ``host`` if it has an icon to serve."""
    with contextlib.suppress(Favicon.DoesNotExist):
        return Favicon.objects.exclude(digest="").only("image", "digest").get(host=host)
    return None

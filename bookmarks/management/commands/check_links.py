"""``python manage.py check_links [--user USERNAME] [--all]``: one pass of link checks now, then a summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from bookmarks.interchange.progress import ProgressBar
from bookmarks.management.users import named_user
from bookmarks.services import health


class Command(BaseCommand):
    help = (
        "Check the links that are due (with --all, every link) now, one after another, with the same rules as "
        "the beat's periodic checks, and print how many are ok, moved, gone, failing and broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's bookmarks")
        parser.add_argument("--all", action="store_true", help="every link, due or not")

    def handle(self, *args, **options) -> None:
        from bookmarks.fetching.health import check_link  # the fetcher: loaded only when needed

        user = named_user(options["user"])
        bookmarks = list(health.due_links(user, every=options["all"]))
        health.claim([bookmark.pk for bookmark in bookmarks], timezone.now())
        bar = ProgressBar("checking links", self.stderr)
        bar.update(0, len(bookmarks))
        counts = health.check_now(bookmarks, check_link, progress=lambda done: bar.update(done, len(bookmarks)))
        bar.update(len(bookmarks), len(bookmarks))
        parts = [f"{counts[name]} {name}" for name in ("ok", "moved", "gone", "failing", "broken", "refused", "busy")]
        self.stdout.write(f"{len(bookmarks)} links checked: " + ", ".join(parts))

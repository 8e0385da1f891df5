"""``python manage.py import_bookmarks FILE --user USERNAME [--folders-as-tags]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookmarks import services
from bookmarks.interchange.files import BookmarkFile, UnreadableFile, file_chunks
from bookmarks.interchange.progress import ProgressBar
from bookmarks.management.users import named_user


class Command(BaseCommand):
    help = "Import a Netscape bookmark file (browsers, Pinboard, Delicious...) or a Pinboard JSON export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="the username that receives the bookmarks")
        parser.add_argument("--folders-as-tags", action="store_true", help="tag each bookmark with its folders")
        parser.add_argument(
            "--fetch-titles",
            action="store_true",
            help="leave untitled bookmarks pending: the beat sweep fetches their titles, a batch a minute",
        )

    def handle(self, *args, **options) -> None:
        user = named_user(options["user"])
        try:
            # Read a piece at a time, twice: checked whole before anything is saved.
            file = BookmarkFile(file_chunks(options["file"]))
            total = file.check()
        except (OSError, UnreadableFile) as exc:
            raise CommandError(str(exc)) from None
        bar = ProgressBar("importing", self.stderr)
        result = services.import_bookmarks(
            user,
            file.entries(),
            folders_as_tags=options["folders_as_tags"],
            fetch_missing_titles=options["fetch_titles"],
            progress=bar.update,
            total=total,
        )
        for url, reason in result.skipped:
            self.stderr.write(f"skipped {url}: {reason}")
        for url, message in result.warnings:
            self.stderr.write(f"warning {url}: {message}")
        self.stdout.write(
            f"{total} in the file: {result.created} new, {result.updated} already saved (updated), "
            f"{result.skipped_count} skipped"
        )

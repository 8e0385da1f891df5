"""``python manage.py export_bookmarks --user USERNAME [-o FILE]``: Netscape bookmark HTML."""

from __future__ import annotations

import functools

from django.core.management.base import BaseCommand, CommandParser

from bookmarks.interchange import netscape
from bookmarks.interchange.exporting import bookmark_entries
from bookmarks.interchange.progress import ProgressBar
from bookmarks.management.users import named_user
from bookmarks.models import Bookmark


class Command(BaseCommand):
    help = "Write a user's bookmarks as a Netscape bookmark file (to stdout, or -o FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, **options) -> None:
        user = named_user(options["user"])
        total = Bookmark.objects.filter(owner=user).count()
        bar = ProgressBar("exporting", self.stderr)
        out = open(options["output"], "w", encoding="utf-8") if options["output"] else None  # noqa: SIM115
        # Chunks as they are: OutputWrapper.write() ends each with a newline unless told otherwise.
        write = out.write if out is not None else functools.partial(self.stdout.write, ending="")
        try:
            done = 0
            for chunk in netscape.write(bookmark_entries(user)):
                write(chunk)
                if chunk.startswith("<DT>"):
                    done += 1
                    if done % 500 == 0 or done == total:
                        bar.update(done, total)
            if total == 0:
                bar.update(0, 0)
        finally:
            if out is not None:
                out.close()

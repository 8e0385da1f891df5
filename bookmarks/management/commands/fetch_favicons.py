"""``python manage.py fetch_favicons [--user USERNAME]``: fetch the icons of sites saved before icons were fetched."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from bookmarks.interchange.progress import ProgressBar
from bookmarks.management.users import named_user
from bookmarks.services import favicons


class Command(BaseCommand):
    help = (
        "Fetch the icon of every site with fetched bookmarks and no icon yet, one site at a time, in this "
        "process. New bookmarks do not need it: the worker fetches their sites' icons after their titles."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only the sites of this user's bookmarks")

    def handle(self, *args, **options) -> None:
        from bookmarks.fetching.favicons import fetch_favicon  # Pillow: loaded only when needed

        user = named_user(options["user"])
        owed = favicons.hosts_without_icons(user)
        bar = ProgressBar("fetching site icons", self.stderr)
        found = 0
        bar.update(0, len(owed))
        for done, (host, (origin, page_icon_url)) in enumerate(owed.items(), start=1):
            if favicons.claim(host, origin=origin, page_icon_url=page_icon_url):
                row = favicons.begin_favicon(host)
                icon = fetch_favicon([page_icon_url, f"{origin}/favicon.ico"])
                if row is not None and favicons.record_favicon(row, icon) and icon.png:
                    found += 1
            bar.update(done, len(owed))
        missing = len(owed) - found
        self.stdout.write(f"sites without an icon: {len(owed)}; icons kept: {found}; no usable icon: {missing}")

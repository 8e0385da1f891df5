"""``python manage.py keep_page_texts [--user USERNAME] [--all] [--limit N]``: keep the text of saved pages now."""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandParser

from bookmarks import services
from bookmarks.interchange.progress import ProgressBar
from bookmarks.management.users import named_user


class Command(BaseCommand):
    help = (
        "Fetch and keep the readable text of bookmarks that have none yet (with --all, of every bookmark), "
        "one page at a time, in this process. The beat sweep does the same slowly in the background."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's bookmarks")
        parser.add_argument("--all", action="store_true", help="fetch the text again where one was kept")
        parser.add_argument("--limit", type=int, default=0, help="at most this many bookmarks (0: no limit)")

    def handle(self, *args, **options) -> None:
        from bookmarks.fetching.text import fetch_page_text  # trafilatura: loaded only when needed

        user = named_user(options["user"])
        ids = list(services.owed_texts(user, every=options["all"]).values_list("id", flat=True))
        if options["limit"] > 0:
            ids = ids[: options["limit"]]
        services.claim_texts(ids)
        bar = ProgressBar("keeping page texts", self.stderr)
        outcomes: Counter[str] = Counter()
        bar.update(0, len(ids))
        for done, bookmark_id in enumerate(ids, start=1):
            bookmark = services.begin_text(bookmark_id)
            if bookmark is not None:
                found = fetch_page_text(bookmark.url)
                services.record_text(bookmark, found)
                outcomes[found.kind] += 1
            bar.update(done, len(ids))
        self.stdout.write(
            f"{len(ids)} bookmarks: {outcomes['text']} texts kept, {outcomes['empty']} without readable text, "
            f"{outcomes['not_text']} not web pages, {outcomes['failed']} failed"
        )

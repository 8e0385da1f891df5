"""``python manage.py fetch_metadata URL``: fetch one page as the worker would; print JSON."""

import json

from django.core.management.base import BaseCommand, CommandParser

from bookmarks.fetching.metadata import fetch_page_metadata


class Command(BaseCommand):
    help = "Fetch a page's title and metadata under the fetch policy and print one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url")

    def handle(self, *args: object, url: str, **options: object) -> None:
        result = fetch_page_metadata(url)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))

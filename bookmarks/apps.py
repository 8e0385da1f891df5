from django.apps import AppConfig


class BookmarksConfig(AppConfig):
    name = "bookmarks"

    def ready(self) -> None:
        from bookmarks import checks  # noqa: F401 (registers the system checks)

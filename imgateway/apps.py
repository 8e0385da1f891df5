from django.apps import AppConfig


class ImgatewayConfig(AppConfig):
    """The XMPP gateway: linked JIDs, message parsing, the bot and its outbox."""

    name = "imgateway"
    verbose_name = "IM gateway"

    def ready(self) -> None:
        from bookmarks.models import Bookmark
        from bookmarks.signals import bookmark_fetched
        from imgateway.outbox import on_bookmark_fetched

        bookmark_fetched.connect(on_bookmark_fetched, sender=Bookmark, dispatch_uid="imgateway-confirmation")

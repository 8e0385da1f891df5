from django.apps import AppConfig


class ImgatewayConfig(AppConfig):
    """The XMPP gateway: linked JIDs, message parsing, the bot and its outbox."""

    name = "imgateway"
    verbose_name = "IM gateway"

    def ready(self) -> None:
        from bookmarks.models import Bookmark
        from bookmarks.signals import bookmark_fetch_recorded
        from imgateway.outbox import on_fetch_recorded

        bookmark_fetch_recorded.connect(on_fetch_recorded, sender=Bookmark, dispatch_uid="imgateway-confirmation")

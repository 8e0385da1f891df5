from django.apps import AppConfig


class ImgatewayConfig(AppConfig):
    """The XMPP gateway: linked JIDs, message parsing, the bot and its outbox."""

    name = "imgateway"
    verbose_name = "IM gateway"

    def ready(self) -> None:
        from bookmarks import services
        from bookmarks.models import Bookmark
        from bookmarks.signals import bookmark_fetch_recorded
        from imgateway.outbox import confirmations_sent_together, on_fetch_recorded

        bookmark_fetch_recorded.connect(on_fetch_recorded, sender=Bookmark, dispatch_uid="imgateway-confirmation")
        if confirmations_sent_together not in services.fetch_results.scopes:
            services.fetch_results.scopes.append(confirmations_sent_together)

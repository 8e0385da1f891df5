from django.apps import AppConfig


class ImgatewayConfig(AppConfig):
    """The XMPP gateway: linked JIDs, message parsing, the bot and its outbox."""

    name = "imgateway"
    verbose_name = "IM gateway"

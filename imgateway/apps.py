from django.apps import AppConfig


class ImgatewayConfig(AppConfig):
    """The XMPP gateway: linked JIDs, chat messages saved and answered, confirmations."""

    name = "imgateway"
    verbose_name = "IM gateway"

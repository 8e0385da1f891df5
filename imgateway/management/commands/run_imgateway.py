"""``python manage.py run_imgateway``: the XMPP gateway, in the foreground."""

from django.core.management.base import BaseCommand

from imgateway.bot import GatewayConfig, run_gateway


class Command(BaseCommand):
    help = "Run the XMPP gateway (the chat bot) until SIGTERM or Ctrl-C."

    def handle(self, *args, **options) -> None:
        run_gateway(GatewayConfig.from_settings())

"""``python manage.py run_imgateway``: the XMPP gateway, in the foreground."""

from django.core.management.base import BaseCommand

from imgateway.bot import GatewayConfig, run_gateway


class Command(BaseCommand):
    help = "Run the XMPP gateway (the chat bot) until SIGTERM or Ctrl-C."
    # The system checks import the site's URLs and every view (about 20 MB) in a process that serves none;
    # `manage.py check` and the web process run them.
    requires_system_checks = []

    def handle(self, *args, **options) -> None:
        run_gateway(GatewayConfig.from_settings())

"""``python manage.py imlink USERNAME JID``: link a chat address as verified."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imgateway.linking import LinkError, link_verified


class Command(BaseCommand):
    help = "Link a JID to a user without a code (the operator vouches for it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("jid")

    def handle(self, *args, username: str, jid: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        try:
            linked = link_verified(user, jid)
        except LinkError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"linked {linked.jid} to {username}")

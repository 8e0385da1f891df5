"""``Authorization: Token <key>`` with the user's API token (settings page)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from bookmarks.models import AccessToken
from bookmarks.tokens import user_for


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        user = user_for(AccessToken.Kind.API, key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return (user, key)

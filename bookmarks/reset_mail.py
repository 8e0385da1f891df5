"""Password reset mails, written by the worker.

The reset page queues ``send_password_reset(email, language)`` for every
address it is given, known or not, so the request does the same work and
takes the same time either way. The worker looks the address up and, for each
active account with it, writes Django's reset mail (``ResetRequestForm``) in
the language the person chose in settings, else the one the page was shown
in, with a link that starts with ``SITE_URL``; the mail itself is queued again
through ``EMAIL_BACKEND`` (``bookmarks.mail``) and sent with retries.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from celery import shared_task
from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from bookmarks import preferences

SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"
BODY_TEMPLATE = "registration/password_reset_email.txt"


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text=_("The address saved in your account settings."),
    )

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs) -> None:
        """Django's mail, in the language ``context["user"]`` chose (else the one active now)."""
        language = preferences.chosen_language(context["user"]) or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


@shared_task(acks_late=True, ignore_result=True)
def send_password_reset(email: str, language: str) -> int:
    """Mail a reset link to every active account with ``email``; returns how many were written."""
    form = ResetRequestForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    with translation.override(language or settings.LANGUAGE_CODE):
        form.save(
            domain_override=urlsplit(settings.SITE_URL).netloc,
            subject_template_name=SUBJECT_TEMPLATE,
            email_template_name=BODY_TEMPLATE,
            extra_email_context={"site_url": settings.SITE_URL, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
        )
    return len(users)

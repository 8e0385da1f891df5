"""Asking for a password reset mail: Django's views, with the site's limit, language and address.

The answer is the same whether or not an account has the address (Django's
"we sent you a mail if..." page), and the limit counts every request, so
neither tells anyone which addresses have accounts. The mail is queued for
the worker (``bookmarks.mail``), written in the language the person chose in
their settings (else the one the page was shown in), and its link starts with
``SITE_URL``, not with whatever Host the request named.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from bookmarks import preferences
from bookmarks.mail import mail_is_on
from bookmarks.web import login_limit

LIMITED_MESSAGE = _("Too many password reset requests. Try again in an hour.")


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text=_("The address saved in your account settings."),
    )

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs) -> None:
        """Django's mail, in the language ``context["user"]`` chose (else the page's)."""
        language = preferences.chosen_language(context["user"]) or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self) -> dict:
        return {"site_url": settings.SITE_URL, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "mail_is_on": mail_is_on()}

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not mail_is_on():
            return self.get(request, *args, **kwargs)  # the page says resets by mail are off
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: ResetRequestForm) -> HttpResponse:
        address = login_limit.client_address(self.request)
        email = form.cleaned_data["email"]
        if not login_limit.reset_allowed(address, email):
            form.add_error(None, LIMITED_MESSAGE)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        login_limit.record_reset(address, email)
        return super().form_valid(form)

"""Asking for a password reset mail: Django's view, with the site's limit, and the mail left to the worker.

The answer is the same whether or not an account has the address (Django's
"we sent you a mail if..." page), the request does the same work either way
(it queues ``reset_mail.send_password_reset``; the worker looks the address
up), and the limit counts every request, so none of them tells anyone which
addresses have accounts.
"""

from __future__ import annotations

import logging

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from bookmarks.mail import mail_is_on
from bookmarks.reset_mail import ResetRequestForm, send_password_reset
from bookmarks.web import login_limit

log = logging.getLogger(__name__)

LIMITED_MESSAGE = _("Too many password reset requests. Try again in an hour.")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm

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
        try:
            send_password_reset.delay(email, translation.get_language())
        except Exception:  # the broker is down: the same answer (Django's own view logs and goes on too)
            log.exception("Could not queue a password reset mail")
        return HttpResponseRedirect(self.get_success_url())

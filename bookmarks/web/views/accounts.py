"""Sign-up and the account settings page (log in/out and passwords are Django's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n
from django.views.decorators.http import require_http_methods, require_POST

from bookmarks import preferences, services
from bookmarks.web import login_limit
from bookmarks.web.forms import AccountForm, SignupForm
from bookmarks.web.timezones import CHOSEN_COOKIE, is_zone_name, zone_names
from bookmarks.web.views import interchange

TIME_ZONE_COOKIE_AGE = 365 * 24 * 3600


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A new account, logged in at once; then where ``next`` pointed (a page of ours, e.g. a shared link's
    form) or the add page."""
    follow = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(follow or "bookmarks:list")
    form = SignupForm(request.POST or None)
    context = {"form": form, "next": follow}
    address = login_limit.client_address(request)
    if request.method == "POST" and not login_limit.signup_allowed(address):
        form.add_error(None, _("Too many accounts were made from your address. Try again in an hour."))
        return render(request, "accounts/signup.html", context, status=429)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login_limit.record_signup(address)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("Welcome to favsite, %(name)s! Add your first bookmark below.") % {"name": user.username}
        )
        return redirect(follow or "bookmarks:add")
    return render(request, "accounts/signup.html", context)


def _safe_next(request: HttpRequest) -> str:
    """The ``next`` the request carries when it points into this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if safe else ""


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Settings saved."))
        return redirect("settings")
    context = {
        "form": form,
        "zone_names": zone_names(),
        "chosen_zone": request.COOKIES.get(CHOSEN_COOKIE, ""),
        "keep_text": services.keeps_text(request.user),
    }
    context.update(interchange.settings_context(request))
    return render(request, "accounts/settings.html", context)


@login_required
@require_POST
def set_time_zone(request: HttpRequest) -> HttpResponse:
    """Remember a chosen time zone in a cookie; "automatic" goes back to the browser's."""
    name = request.POST.get("time_zone", "")
    response = redirect("settings")
    known = is_zone_name(name)
    preferences.remember(request.user, time_zone=name if known else "")
    if known:
        response.set_cookie(CHOSEN_COOKIE, name, max_age=TIME_ZONE_COOKIE_AGE, samesite="Lax", httponly=True)
        messages.success(request, _("Dates are now shown in %(zone)s.") % {"zone": name})
    else:
        response.delete_cookie(CHOSEN_COOKIE, samesite="Lax")
        messages.success(request, _("Dates now follow your browser's time zone."))
    return response


@login_required
@require_POST
def set_text_keeping(request: HttpRequest) -> HttpResponse:
    """Keep the text of saved pages, or stop and delete what was kept."""
    keep = request.POST.get("keep_text") == "1"
    deleted = services.set_text_keeping(request.user, keep)
    if keep:
        messages.success(request, _("The text of the pages you save is kept."))
    else:
        message = ngettext(
            "Page text is no longer kept (%(count)s text deleted).",
            "Page text is no longer kept (%(count)s texts deleted).",
            deleted,
        )
        messages.success(request, message % {"count": deleted})
    return redirect("settings")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switcher (a cookie for this browser), remembered for the chat bot too."""
    response = i18n.set_language(request)
    if request.user.is_authenticated:
        preferences.remember(request.user, language=request.POST.get("language", ""))
    return response

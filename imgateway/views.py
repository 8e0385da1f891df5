"""/settings/im/: the chat addresses linked to your account."""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from slixmpp import JID

from bookmarks import preferences
from imgateway import linking
from imgateway.models import LINK_CODE_MAX_ATTEMPTS, LinkCode, LinkedJid


class AddJidForm(forms.Form):
    jid = forms.CharField(
        label=gettext_lazy("Chat address (JID)"),
        max_length=3071,
        widget=forms.TextInput(attrs={"placeholder": "you@example.org", "autocomplete": "off"}),
    )


def bot_address() -> str:
    return JID(settings.XMPP_JID).bare if settings.XMPP_JID else ""


@login_required
@require_http_methods(["GET", "POST"])
def im_settings(request: HttpRequest) -> HttpResponse:
    form = AddJidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = linking.start_link(request.user, form.cleaned_data["jid"])
        except linking.LinkError as exc:
            form.add_error("jid", str(exc))
        else:
            messages.success(request, _("Now send the code below to the bot from %(jid)s.") % {"jid": code.jid})
            return redirect("im_settings")
    bot_jid = bot_address()
    pending = [(code, linking.link_uri(bot_jid, code.code)) for code in _pending_codes(request)]
    return render(
        request,
        "imgateway/settings.html",
        {
            "form": form,
            "linked": LinkedJid.objects.filter(user=request.user),
            "pending": pending,
            "bot_jid": bot_jid,
            "hold_when_busy": preferences.holds_when_busy(request.user),
        },
    )


def _pending_codes(request: HttpRequest):
    return LinkCode.objects.filter(
        user=request.user, expires_at__gt=timezone.now(), attempts__lt=LINK_CODE_MAX_ATTEMPTS
    ).order_by("-created_at")


@login_required
@require_GET
def link_qr(request: HttpRequest, code_id: int) -> HttpResponse:
    """The QR code of one of the user's pending link codes, as SVG."""
    code = get_object_or_404(_pending_codes(request), pk=code_id)
    svg = io.BytesIO()
    linking.link_qr(linking.link_uri(bot_address(), code.code)).save(svg, kind="svg", scale=6, border=4)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def link_status(request: HttpRequest) -> JsonResponse:
    """The user's linked addresses, which the settings page polls while a code waits to be sent."""
    return JsonResponse({"linked": list(LinkedJid.objects.filter(user=request.user).values_list("jid", flat=True))})


@login_required
@require_POST
def unlink(request: HttpRequest) -> HttpResponse:
    jid = request.POST.get("jid", "")
    if linking.unlink(request.user, jid):
        messages.success(request, _("%(jid)s is no longer linked.") % {"jid": jid})
    LinkCode.objects.filter(user=request.user, jid=jid).delete()
    return redirect("im_settings")


@login_required
@require_POST
def hold_when_busy(request: HttpRequest) -> HttpResponse:
    """Whether the bot holds confirmations while the person is "do not disturb" (``imgateway.busy``)."""
    hold = request.POST.get("hold_when_busy") == "1"
    preferences.remember(request.user, hold_when_busy=hold)
    if hold:
        messages.success(request, _("Confirmations wait while you are busy, then come as one summary."))
    else:
        messages.success(request, _("Confirmations arrive at once, even while you are busy."))
    return redirect("im_settings")

"""Import (upload + progress), export (download), and the API/feed token controls in settings."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookmarks.interchange import netscape
from bookmarks.interchange.exporting import bookmark_entries
from bookmarks.interchange.import_jobs import ImportRunning, active_import, start_import
from bookmarks.interchange.uploads import CappedUploadHandler, declared_too_large
from bookmarks.models import AccessToken, ImportJob
from bookmarks.tokens import regenerate, token_for


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bookmark file"),
        help_text=gettext_lazy(
            "HTML exported from a browser, Pinboard, Delicious, linkding, Shaarli… or Pinboard JSON."
        ),
    )
    folders_as_tags = forms.BooleanField(label=gettext_lazy("Tag bookmarks with their folder names"), required=False)
    fetch_missing_titles = forms.BooleanField(
        label=gettext_lazy("Fetch the titles of bookmarks that have none"),
        help_text=gettext_lazy("They arrive over the following minutes, a batch at a time."),
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_large_message())
        return upload


def too_large_message() -> str:
    return _("The file is larger than %(size)s, the most this site imports.") % {
        "size": filesizeformat(settings.IMPORT_MAX_BYTES)
    }


@csrf_exempt  # the CSRF check reads the body: the view checks the size first, then the token
@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """The upload form. An upload over ``IMPORT_MAX_BYTES`` is refused by its declared length before
    its body is read, or stopped by ``CappedUploadHandler`` as soon as its file passes the cap."""
    if request.method == "POST" and declared_too_large(request, settings.IMPORT_MAX_BYTES):
        # The body is left unread; the server closes the connection after this answer.
        return _import_form(request, ImportForm(), status=413, error=too_large_message())
    capped = CappedUploadHandler(request, settings.IMPORT_MAX_BYTES)
    request.upload_handlers.insert(0, capped)
    return _import_upload(request, capped)


@csrf_protect
def _import_upload(request: HttpRequest, capped: CappedUploadHandler) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if capped.refused:
        return _import_form(request, ImportForm(), status=413, error=too_large_message())
    if request.method != "POST":
        return _import_form(request, form)
    running = active_import(request.user)
    if running is None and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = start_import(
                request.user,
                upload.name,
                upload.chunks(),
                folders_as_tags=form.cleaned_data["folders_as_tags"],
                fetch_missing_titles=form.cleaned_data["fetch_missing_titles"],
            )
        except ImportRunning as exc:
            running = exc.job
        else:
            return redirect("bookmarks:import_job", job_id=job.pk)
    if running is not None:
        # Said by the page next to the link to its progress.
        return _import_form(request, ImportForm(), status=409, refused_for=running)
    return _import_form(request, form)


def _import_form(
    request: HttpRequest,
    form: ImportForm,
    *,
    status: int = 200,
    refused_for: ImportJob | None = None,
    error: str = "",
) -> HttpResponse:
    jobs = list(ImportJob.objects.filter(owner=request.user)[:10])
    running = refused_for or next((job for job in jobs if job.state in ImportJob.ACTIVE_STATES), None)
    context = {
        "form": form,
        "jobs": jobs,
        "running": running,
        "refused": refused_for is not None,
        "error": error,
        "max_size": filesizeformat(settings.IMPORT_MAX_BYTES),
    }
    return render(request, "bookmarks/import.html", context, status=status)


@login_required
@require_GET
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _owned_job(request, job_id)
    return render(request, "bookmarks/import_job.html", {"job": job, "status": _status(job)})


@login_required
@require_GET
def import_job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(_status(_owned_job(request, job_id)))


@login_required
@require_GET
def export_download(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        netscape.write(bookmark_entries(request.user)), content_type="text/html; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="favsite-bookmarks-{stamp}.html"'
    return response


@login_required
@require_POST
def regenerate_token(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in AccessToken.Kind.values:
        raise Http404
    regenerate(request.user, kind)
    if kind == AccessToken.Kind.FEED:
        messages.success(request, _("New feed addresses made; the old ones no longer work."))
    else:
        messages.success(request, _("New API token made; the old one no longer works."))
    return redirect("settings")


def settings_context(request: HttpRequest) -> dict:
    """What the settings page shows for import/export, the API, feeds and the bookmarklet."""
    feed_token = token_for(request.user, AccessToken.Kind.FEED)
    rss = request.build_absolute_uri(reverse("feed_rss", args=[feed_token]))
    atom = request.build_absolute_uri(reverse("feed_atom", args=[feed_token]))
    return {
        "api_token": token_for(request.user, AccessToken.Kind.API),
        "feed_rss": rss,
        "feed_atom": atom,
        "feed_tag_example": rss + "?tag=python",
        "feed_search_example": rss + "?q=django",
        "bookmarklet": bookmarklet(request.build_absolute_uri(reverse("bookmarks:add"))),
    }


def bookmarklet(add_url: str) -> str:
    """A ``javascript:`` link that opens the add form prefilled with the current page's URL and title."""
    target = json.dumps(add_url)  # a JS string literal; the URL comes from our own reverse()
    return (
        "javascript:(function(){window.open("
        f"{target}+'?url='+encodeURIComponent(location.href)+'&title='+encodeURIComponent(document.title),"
        "'favsite','width=720,height=640');})();"
    )


def _owned_job(request: HttpRequest, job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=job_id, owner=request.user)


def _status(job: ImportJob) -> dict:
    """What the progress page shows; the summary is worded here, so the page's script only copies text."""
    counts = {"created": job.created, "updated": job.updated, "skipped": job.skipped}
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "done": job.done,
        "total": job.total,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "summary": _("%(created)s new, %(updated)s already saved (updated), %(skipped)s skipped.") % counts,
        "messages": job.messages,
        "error": job.error,
        "finished": job.state in (ImportJob.State.DONE, ImportJob.State.FAILED),
    }

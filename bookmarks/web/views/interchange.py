"""Import (upload + progress), export (download), and the API/feed token controls in settings."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookmarks.interchange import netscape
from bookmarks.interchange.exporting import bookmark_entries
from bookmarks.interchange.import_jobs import start_import
from bookmarks.models import AccessToken, ImportJob
from bookmarks.tokens import regenerate, token_for

IMPORT_MAX_BYTES = 50 * 1024 * 1024


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
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = start_import(
            request.user,
            upload.name,
            upload.read(),
            folders_as_tags=form.cleaned_data["folders_as_tags"],
            fetch_missing_titles=form.cleaned_data["fetch_missing_titles"],
        )
        return redirect("bookmarks:import_job", job_id=job.pk)
    jobs = ImportJob.objects.filter(owner=request.user).defer("content")[:10]
    return render(request, "bookmarks/import.html", {"form": form, "jobs": jobs})


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
    return get_object_or_404(ImportJob.objects.defer("content"), pk=job_id, owner=request.user)


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

"""The tags page: every tag with its count; rename, merge, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookmarks import services
from bookmarks.models import Tag
from bookmarks.web.forms import TagMergeForm, TagRenameForm


@login_required
def tag_list(request: HttpRequest) -> HttpResponse:
    # By name like the sidebar: a query with an aggregate leaves out the model's ordering.
    tags = Tag.objects.filter(owner=request.user).annotate(count=Count("bookmarks")).order_by(Lower("name"))
    return render(request, "bookmarks/tags.html", {"tags": tags})


@login_required
@require_POST
def tag_rename(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag = get_object_or_404(Tag, owner=request.user, pk=tag_id)
    form = TagRenameForm(request.POST)
    if form.is_valid():
        old_name = tag.name
        renamed = services.rename_tag(request.user, tag.pk, form.cleaned_data["name"])
        messages.success(request, _("Renamed #%(old)s to #%(new)s.") % {"old": old_name, "new": renamed.name})
    else:
        messages.error(request, _("A tag needs a name."))
    return redirect("bookmarks:tags")


@login_required
@require_POST
def tag_merge(request: HttpRequest) -> HttpResponse:
    choices = list(Tag.objects.filter(owner=request.user).values_list("pk", "name"))
    form = TagMergeForm(request.POST, tag_choices=choices)
    if form.is_valid():
        target = services.merge_tags(request.user, form.cleaned_data["tags"], form.cleaned_data["target"])
        messages.success(request, _("Merged into #%(name)s.") % {"name": target.name})
    else:
        messages.error(request, _("Select the tags to merge and the tag to keep."))
    return redirect("bookmarks:tags")


@login_required
@require_POST
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag = get_object_or_404(Tag, owner=request.user, pk=tag_id)
    services.delete_tag(request.user, tag.pk)
    messages.success(request, _("Deleted the tag #%(name)s; its bookmarks stay.") % {"name": tag.name})
    return redirect("bookmarks:tags")

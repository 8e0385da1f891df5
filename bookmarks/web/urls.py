from django.urls import path

from bookmarks.web.views import icons, interchange, pages, reader, reading, sharing, tags

app_name = "bookmarks"

urlpatterns = [
    path("", pages.bookmark_list, name="list"),
    path("add/", pages.bookmark_add, name="add"),
    path("share/", sharing.share, name="share"),
    path("live/", pages.bookmark_live, name="live"),
    path("bulk/", pages.bookmark_bulk, name="bulk"),
    path("tags/", tags.tag_list, name="tags"),
    path("tags/merge/", tags.tag_merge, name="tag_merge"),
    path("tags/<int:tag_id>/rename/", tags.tag_rename, name="tag_rename"),
    path("tags/<int:tag_id>/delete/", tags.tag_delete, name="tag_delete"),
    path("import/", interchange.import_page, name="import"),
    path("import/<int:job_id>/", interchange.import_job, name="import_job"),
    path("import/<int:job_id>/status/", interchange.import_job_status, name="import_job_status"),
    path("export/", interchange.export_download, name="export"),
    path("<int:bookmark_id>/edit/", pages.bookmark_edit, name="edit"),
    path("<int:bookmark_id>/delete/", pages.bookmark_delete, name="delete"),
    path("<int:bookmark_id>/refresh/", pages.bookmark_refresh, name="refresh"),
    path("<int:bookmark_id>/read/", reader.bookmark_read, name="read"),
    path("<int:bookmark_id>/check/", pages.bookmark_check, name="check"),
    path("<int:bookmark_id>/relink/", pages.bookmark_relink, name="relink"),
    path("<int:bookmark_id>/unread/", reading.bookmark_unread, name="unread"),
    path("icons/<str:host>.png", icons.site_icon, name="icon"),
]

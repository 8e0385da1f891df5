from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from bookmarks.api import pinboard, pinboard_account, views

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="api-root"),
    path("bookmarks/", views.BookmarkList.as_view(), name="api-bookmarks"),
    path("bookmarks/<int:pk>/", views.BookmarkDetail.as_view(), name="api-bookmark"),
    path("tags/", views.TagList.as_view(), name="api-tags"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Redoc from drf-spectacular-sidecar's static files: the docs page loads nothing from elsewhere
    # (templates/drf_spectacular/redoc.html leaves out the web fonts). Redoc styles its page inline
    # and renders in a worker made from a blob: the site's policy widened for this page alone.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]

# Pinboard v1, each with or without a trailing slash (clients differ).
PINBOARD_METHODS = {
    "posts/update": pinboard.posts_update,
    "posts/add": pinboard.posts_add,
    "posts/delete": pinboard.posts_delete,
    "posts/get": pinboard.posts_get,
    "posts/dates": pinboard.posts_dates,
    "posts/recent": pinboard.posts_recent,
    "posts/all": pinboard.posts_all,
    "posts/suggest": pinboard.posts_suggest,
    "tags/get": pinboard.tags_get,
    "tags/delete": pinboard_account.tags_delete,
    "tags/rename": pinboard_account.tags_rename,
    "user/secret": pinboard_account.user_secret,
    "user/api_token": pinboard.user_api_token,
    "notes/list": pinboard_account.notes_list,
}
urlpatterns += [path(f"v1/{method}{slash}", view) for method, view in PINBOARD_METHODS.items() for slash in ("", "/")]
urlpatterns += [path(f"v1/notes/<str:note_id>{slash}", pinboard_account.note_detail) for slash in ("", "/")]

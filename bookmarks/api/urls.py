from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from bookmarks.api import pinboard, views

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
    # Pinboard v1 (trailing slash optional: clients differ)
    path("v1/posts/update", pinboard.posts_update),
    path("v1/posts/add", pinboard.posts_add),
    path("v1/posts/delete", pinboard.posts_delete),
    path("v1/posts/get", pinboard.posts_get),
    path("v1/posts/recent", pinboard.posts_recent),
    path("v1/posts/all", pinboard.posts_all),
    path("v1/tags/get", pinboard.tags_get),
    path("v1/user/api_token", pinboard.user_api_token),
    path("v1/posts/update/", pinboard.posts_update),
    path("v1/posts/add/", pinboard.posts_add),
    path("v1/posts/delete/", pinboard.posts_delete),
    path("v1/posts/get/", pinboard.posts_get),
    path("v1/posts/recent/", pinboard.posts_recent),
    path("v1/posts/all/", pinboard.posts_all),
    path("v1/tags/get/", pinboard.tags_get),
    path("v1/user/api_token/", pinboard.user_api_token),
]

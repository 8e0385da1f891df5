from django.urls import path

from bookmarks.views import pages

app_name = "bookmarks"

urlpatterns = [
    path("", pages.bookmark_list, name="list"),
    path("add/", pages.bookmark_add, name="add"),
    path("<int:bookmark_id>/edit/", pages.bookmark_edit, name="edit"),
    path("<int:bookmark_id>/delete/", pages.bookmark_delete, name="delete"),
    path("<int:bookmark_id>/refresh/", pages.bookmark_refresh, name="refresh"),
]

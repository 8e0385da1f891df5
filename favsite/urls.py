from django.contrib import admin
from django.urls import include, path

from bookmarks.views import accounts, health, pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("bookmarks/", include("bookmarks.urls")),
    path("settings/", accounts.settings_page, name="settings"),
    path("admin/", admin.site.urls),
]

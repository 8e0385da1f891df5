from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from bookmarks.interchange import feeds
from bookmarks.web import login_limit
from bookmarks.web.views import accounts, health, interchange, pages, password_reset, sharing
from imgateway import views as im_views

admin.site.login_form = login_limit.LimitedAdminAuthenticationForm  # the login limit covers /admin/login/ too

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("manifest/<str:language>.webmanifest", sharing.manifest, name="manifest"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", login_limit.LoginView.as_view(), name="login"),  # before auth.urls: limited
    path("accounts/password_reset/", password_reset.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("bookmarks/", include("bookmarks.web.urls")),
    path("settings/", accounts.settings_page, name="settings"),
    path("settings/time-zone/", accounts.set_time_zone, name="set_time_zone"),
    path("settings/page-text/", accounts.set_text_keeping, name="set_text_keeping"),
    path("i18n/setlang/", accounts.set_language, name="set_language"),
    # gettext/ngettext for static/js (locale/*/LC_MESSAGES/djangojs.po)
    path("i18n/js/", JavaScriptCatalog.as_view(), name="javascript_catalog"),
    path("settings/im/", im_views.im_settings, name="im_settings"),
    path("settings/im/unlink/", im_views.unlink, name="im_unlink"),
    path("settings/im/busy/", im_views.hold_when_busy, name="im_busy"),
    path("settings/im/status/", im_views.link_status, name="im_link_status"),
    path("settings/im/qr/<int:code_id>.svg", im_views.link_qr, name="im_link_qr"),
    path("api/", include("bookmarks.api.urls")),
    path("feeds/<str:token>/rss/", feeds.BookmarkFeed(), name="feed_rss"),
    path("feeds/<str:token>/atom/", feeds.AtomBookmarkFeed(), name="feed_atom"),
    path("settings/tokens/<str:kind>/regenerate/", interchange.regenerate_token, name="regenerate_token"),
    path("admin/", admin.site.urls),
]

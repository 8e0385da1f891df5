from django.contrib import admin

from bookmarks.models import Bookmark, Favicon, Tag


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["display_title", "owner", "status", "source", "added_at"]
    list_filter = ["status", "source"]
    search_fields = ["url", "title", "page_title", "owner__username"]
    raw_id_fields = ["owner", "tags"]
    readonly_fields = ["normalized_url", "url_hash", "created_at", "updated_at", "fetched_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "owner"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]


@admin.register(Favicon)
class FaviconAdmin(admin.ModelAdmin):
    list_display = ["host", "digest", "checked_at", "error"]
    search_fields = ["host"]
    readonly_fields = ["digest", "source_url", "error", "queued_at", "checked_at"]
    exclude = ["image"]

from __future__ import annotations

from rest_framework import serializers

from bookmarks.models import Bookmark, Tag
from bookmarks.services.tagging import max_tags, parse_tags
from bookmarks.web.forms import tag_count_error


class TagNamesField(serializers.ListField):
    """Tags as a list of names, read from the (prefetched) relation."""

    def get_attribute(self, instance: Bookmark) -> list[str]:
        return [tag.name for tag in instance.tags.all()]


class BookmarkSerializer(serializers.ModelSerializer):
    tags = TagNamesField(child=serializers.CharField(max_length=64), required=False)
    display_title = serializers.CharField(read_only=True)

    def validate_tags(self, value: list[str]) -> list[str]:
        count = len(parse_tags(value))
        if count > max_tags():
            raise serializers.ValidationError(tag_count_error(count))
        return value

    class Meta:
        model = Bookmark
        fields = [
            "id",
            "url",
            "title",
            "display_title",
            "page_title",
            "description",
            "note",
            "tags",
            "is_private",
            "unread",
            "status",
            "site_name",
            "favicon_url",
            "created_at",
            "added_at",
            "updated_at",
        ]
        read_only_fields = [
            "page_title",
            "description",
            "status",
            "site_name",
            "favicon_url",
            "created_at",
            "added_at",
            "updated_at",
        ]
        extra_kwargs = {"url": {"validators": []}}


class TagSerializer(serializers.ModelSerializer):
    count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "count"]

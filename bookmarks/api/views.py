"""REST API: the token owner's bookmarks and tags. Writes go through ``bookmarks.services``."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from bookmarks import services
from bookmarks.api.serializers import BookmarkSerializer, TagSerializer
from bookmarks.models import Bookmark, Tag
from bookmarks.search import with_tags_matching

LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="search words (the site's search syntax)"),
    OpenApiParameter("tag", OpenApiTypes.STR, many=True, description="only bookmarks with all these tags"),
    OpenApiParameter("unread", OpenApiTypes.BOOL),
]


class ApiRoot(APIView):
    """The parts of the API: a page in a browser, JSON for a client. Open to all: it holds only links."""

    permission_classes = [permissions.AllowAny]
    schema = None  # not an operation of the API

    def get(self, request: Request) -> Response:
        names = {"bookmarks": "api-bookmarks", "tags": "api-tags", "schema": "api-schema", "docs": "api-docs"}
        return Response({key: reverse(name, request=request) for key, name in names.items()})


def owned_bookmarks(request: Request) -> QuerySet[Bookmark]:
    """The one place the API picks rows: always the authenticated user's."""
    return Bookmark.objects.filter(owner=request.user)


class BookmarkList(generics.ListCreateAPIView):
    serializer_class = BookmarkSerializer

    def get_queryset(self) -> QuerySet[Bookmark]:
        params = self.request.query_params
        query = params.get("q", "").strip()
        bookmarks = with_tags_matching(owned_bookmarks(self.request), self.request.user, params.getlist("tag"), query)
        if "unread" in params:
            bookmarks = bookmarks.filter(unread=params["unread"].lower() in ("1", "true", "yes"))
        return bookmarks.prefetch_related("tags")

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={201: BookmarkSerializer, 200: BookmarkSerializer})
    def post(self, request: Request, *args, **kwargs) -> Response:
        """Save a link; a link you already have is updated like a re-save (200 instead of 201)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = services.save_url(
                request.user,
                data["url"],
                title=data.get("title", ""),
                tags=data.get("tags", []),
                note=data.get("note", ""),
                source=Bookmark.Source.API,
                is_private=data.get("is_private"),
                unread=data.get("unread"),
            )
        except services.InvalidURL as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        body = BookmarkSerializer(Bookmark.objects.prefetch_related("tags").get(pk=result.bookmark.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class BookmarkDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = BookmarkSerializer

    def get_object(self) -> Bookmark:
        # Another user's id is a 404, never a 403: ids of others are not confirmed.
        return get_object_or_404(owned_bookmarks(self.request).prefetch_related("tags"), pk=self.kwargs["pk"])

    def update(self, request: Request, *args, **kwargs) -> Response:
        bookmark = self.get_object()
        serializer = self.get_serializer(bookmark, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            bookmark = services.edit_bookmark(
                bookmark,
                url=data.get("url", bookmark.url),
                title=data.get("title", bookmark.title),
                tags=data["tags"] if "tags" in data else [tag.name for tag in bookmark.tags.all()],
                note=data.get("note", bookmark.note),
                is_private=data.get("is_private"),
                unread=data.get("unread"),
            )
        except services.InvalidURL as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        except services.DuplicateURL:
            raise ValidationError({"url": ["You already have a bookmark for this link."]}) from None
        # The edited instance is current (its tag cache was dropped by the edit): no second read.
        return Response(BookmarkSerializer(bookmark).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        bookmark = self.get_object()
        services.delete_bookmarks(request.user, [bookmark.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagList(generics.ListAPIView):
    serializer_class = TagSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Tag]:
        return Tag.objects.filter(owner=self.request.user).annotate(
            count=Count("bookmarks", filter=Q(bookmarks__owner=self.request.user))
        )

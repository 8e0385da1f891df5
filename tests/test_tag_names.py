"""Tag names as people type them, in any script."""

from __future__ import annotations

import pytest

from bookmarks import services
from bookmarks.models import Tag

pytestmark = pytest.mark.django_db


def test_a_tag_with_a_non_ascii_capital_is_saved_and_found_again(user):
    services.save_url(user, "https://example.com/a", tags="École")
    services.save_url(user, "https://example.com/b", tags="École")
    assert list(Tag.objects.filter(owner=user).values_list("name", flat=True)) == ["École"]

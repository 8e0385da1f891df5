"""Content-Security-Policy: scripts and styles from the site only, no inline code anywhere in our templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/bookmarks/", "/settings/", "/settings/im/", "/tags/"])
def test_every_page_forbids_inline_and_foreign_scripts(alice_client, path):
    policy = directives(alice_client.get(path, follow=True))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("template", sorted((ROOT / "templates").rglob("*.html")), ids=lambda path: path.name)
def test_no_template_holds_inline_script_event_handlers_or_styles(template):
    if template.parent.name == "drf_spectacular":
        pytest.skip("the API docs page has a policy of its own")
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_ATTRIBUTE.search(text)
    assert not STYLE_ATTRIBUTE.search(text)


@pytest.mark.django_db
def test_the_api_docs_load_nothing_from_elsewhere(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert not re.search(r"""(src|href)=["']https?://""", response.content.decode())
    assert "'unsafe-inline'" in directives(response)["style-src"]

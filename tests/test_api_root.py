"""/api/ is the browsable API root, with links to the schema and its docs (issue 20, bug 7)."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_its_parts_with_absolute_links(alice_client):
    answer = alice_client.get("/api/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    links = answer.json()
    assert links["bookmarks"] == "http://testserver/api/bookmarks/"
    assert links["tags"] == "http://testserver/api/tags/"
    assert links["schema"] == "http://testserver/api/schema/"
    assert links["docs"] == "http://testserver/api/docs/"


def test_the_api_root_is_a_page_in_a_browser(client):
    page = client.get("/api/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert 'href="http://testserver/api/docs/"' in page.content.decode()


def test_the_api_docs_are_served_by_the_site_itself(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    assert "cdn.jsdelivr.net" not in html and "/static/drf_spectacular_sidecar/" in html

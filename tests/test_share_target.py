"""Sharing from a phone: the manifest's share target, posted the way a browser does, saves the page."""

from __future__ import annotations

import html
import re
import struct
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from bookmarks.models import Bookmark

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """The page's main form (``class="stacked"``): its action and the values a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}
        self.state = "before"  # then "inside", then "after"
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.state == "before" and "stacked" in (attrs.get("class") or "").split():
            self.state, self.action = "inside", attrs.get("action") or ""
        if self.state != "inside":
            return
        if tag == "input" and attrs.get("name") and attrs.get("type") != "checkbox":
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.state == "inside":
            self.state = "after"


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def manifest(client: Client, page: str = "/") -> dict:
    href = re.search(r'<link rel="manifest" href="([^"]+)"', client.get(page, follow=True).content.decode()).group(1)
    answer = client.get(href)
    assert answer["Content-Type"] == "application/manifest+json"
    return answer.json()


def share(client: Client, **shared: str):
    """What Chrome on Android sends when the installed site is picked in the share sheet."""
    target = manifest(client)["share_target"]
    data = {target["params"][key]: value for key, value in shared.items()}
    if target["method"].upper() == "GET":
        return client.get(target["action"], data)
    return client.post(target["action"], urlencode(data), content_type=target["enctype"])


def png_size(static_path: str) -> tuple[int, int]:
    with open(finders.find(static_path.removeprefix("/static/")), "rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_every_page_links_the_manifest_in_its_language(client):
    assert manifest(client)["lang"] == "en"
    client.cookies["django_language"] = "zh-hans"
    assert manifest(client, "/accounts/login/")["lang"] == "zh-hans"


def test_the_manifest_makes_an_installable_standalone_app(client):
    data = manifest(client)
    assert (data["start_url"], data["scope"], data["display"]) == ("/", "/", "standalone")
    assert data["short_name"] == "favsite" and data["name"] and data["theme_color"].startswith("#")


def test_the_manifest_declares_png_icons_of_192_and_512_pixels(client):
    icons = manifest(client)["icons"]
    sizes = {(icon["sizes"], icon["purpose"]): png_size(icon["src"]) for icon in icons}
    assert sizes == {
        ("192x192", "any"): (192, 192),
        ("512x512", "any"): (512, 512),
        ("512x512", "maskable"): (512, 512),
    }


def test_the_apple_touch_icon_is_served_at_the_root(client):
    answer = client.get("/apple-touch-icon.png")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"


def test_the_content_security_policy_allows_the_sites_own_manifest(client):
    assert "manifest-src 'self'" in client.get("/")["Content-Security-Policy"]


def test_a_shared_page_shows_its_title_and_url_and_one_submit_saves_it(alice_client, user):
    page = share(alice_client, title="An article", url="https://example.com/article")
    form = read_form(page.content.decode())
    assert (form.fields["url"], form.fields["title"]) == ("https://example.com/article", "An article")
    saved = alice_client.post(form.action, form.fields)
    assert saved.status_code == 302
    bookmark = Bookmark.objects.get(owner=user)
    assert (bookmark.url, bookmark.title) == ("https://example.com/article", "An article")


def test_a_link_android_puts_in_the_text_is_found(alice_client):
    page = share(alice_client, title="An article", text="Look at this https://example.com/a?id=1.")
    form = read_form(page.content.decode())
    assert (form.fields["url"], form.fields["title"]) == ("https://example.com/a?id=1", "An article")
    assert form.fields["note"].strip() == "Look at this"


def test_shared_text_without_a_link_says_so_and_keeps_the_text(alice_client):
    page = share(alice_client, text="remember the cheese shop")
    form = read_form(page.content.decode())
    assert "No web address was found" in page.content.decode()
    assert (form.fields["url"], form.fields["note"].strip()) == ("", "remember the cheese shop")


def test_a_logged_out_share_comes_back_to_the_filled_form_after_login(client, user):
    to_login = share(client, title="Later", url="https://example.com/later")
    assert to_login.status_code == 302 and to_login.url.startswith("/accounts/login/")
    login_form = read_form(client.get(to_login.url).content.decode())
    login_form.fields.update(username="alice", password="correct horse battery")
    back = client.post(login_form.action or to_login.url, login_form.fields, follow=True)
    form = read_form(back.content.decode())
    assert (form.fields["url"], form.fields["title"]) == ("https://example.com/later", "Later")


def test_a_logged_out_share_comes_back_to_the_filled_form_after_signing_up(client):
    to_login = share(client, title="Later", url="https://example.com/later")
    login_page = client.get(to_login.url).content.decode()
    signup_url = html.unescape(re.search(r'<a href="(/accounts/signup/[^"]*)"', login_page).group(1))
    signup_form = read_form(client.get(signup_url).content.decode())
    signup_form.fields.update(username="newcomer", password1="a-long-passphrase-42", password2="a-long-passphrase-42")
    back = client.post(signup_form.action or signup_url, signup_form.fields, follow=True)
    form = read_form(back.content.decode())
    assert (form.fields["url"], form.fields["title"]) == ("https://example.com/later", "Later")


def test_signing_up_does_not_send_a_share_elsewhere(client):
    answer = client.post(
        "/accounts/signup/?next=https://evil.example/",
        {"username": "newcomer", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert answer.status_code == 302 and answer.url == "/bookmarks/add/"


def test_the_login_does_not_send_a_share_elsewhere(client, user):
    answer = client.post(
        "/accounts/login/?next=https://evil.example/", {"username": "alice", "password": "correct horse battery"}
    )
    assert answer.status_code == 302 and not answer.url.startswith("https://evil.example")


def test_the_share_page_is_translated(alice_client):
    alice_client.cookies["django_language"] = "zh-hans"
    page = share(alice_client, url="https://example.com/")
    assert "保存分享的链接" in page.content.decode()


def test_the_chinese_manifest_names_the_app_in_chinese(client):
    data = client.get("/manifest/zh-hans.webmanifest").json()
    assert (data["name"], data["short_name"]) == ("favsite 书签", "favsite")


def test_a_manifest_in_an_unknown_language_is_not_found(client):
    assert client.get("/manifest/xx.webmanifest").status_code == 404

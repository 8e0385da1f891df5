"""Fetching a site's icon (issue 20): where it is looked for, what is accepted, and what is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bookmarks.fetching.favicons import ICON_SIZE, fetch_favicon
from bookmarks.fetching.metadata import fetch_page_metadata
from tests.fixtures.icons import PNG_ICON, SVG_ICON, huge_png, icon_file, page_naming_icon
from tests.fixtures.pages import PageServer


def picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize("image_format", ["PNG", "ICO", "GIF", "JPEG", "WEBP", "BMP"])
def test_an_icon_in_each_accepted_format_is_kept_as_our_own_png(page_server, image_format):
    url = page_server.route("/favicon.ico", icon_file(image_format), headers={"Content-Type": "image/x-icon"})
    found = fetch_favicon([url])
    assert (found.source_url, found.error) == (url, "")
    assert picture(found.png).size == (32, 32)


def test_a_large_icon_is_drawn_down_to_the_size_we_keep(page_server):
    found = fetch_favicon([page_server.route("/icon.png", icon_file("PNG", size=(512, 256)))])
    assert picture(found.png).size == (ICON_SIZE, ICON_SIZE // 2)


def test_the_icon_the_page_names_is_tried_before_favicon_ico(page_server):
    named = page_server.route("/static/icon.png", PNG_ICON, headers={"Content-Type": "image/png"})
    page_server.route("/favicon.ico", icon_file("ICO"), headers={"Content-Type": "image/x-icon"})
    found = fetch_favicon([named, page_server.url("/favicon.ico")])
    assert found.source_url == named
    assert page_server.requests == ["/static/icon.png"]


def test_favicon_ico_is_tried_when_the_named_icon_is_missing(page_server):
    ico = page_server.route("/favicon.ico", icon_file("ICO"), headers={"Content-Type": "image/x-icon"})
    found = fetch_favicon([page_server.url("/gone.png"), ico])
    assert found.source_url == ico and found.png
    assert page_server.requests == ["/gone.png", "/favicon.ico"]


def test_an_icon_behind_a_redirect_is_followed(page_server):
    page_server.route("/favicon.ico", status=301, headers={"Location": "/assets/icon.png"})
    page_server.route("/assets/icon.png", PNG_ICON, headers={"Content-Type": "image/png"})
    assert fetch_favicon([page_server.url("/favicon.ico")]).png


def test_an_icon_larger_than_the_cap_is_refused_unread(page_server, settings):
    settings.FAVICON_MAX_BYTES = 4096
    url = page_server.route("/favicon.ico", PNG_ICON + b"\0" * 8192, headers={"Content-Type": "image/png"})
    found = fetch_favicon([url])
    assert found.png == b""
    assert found.error == f"{url}: too large (more than 4096 bytes)"
    assert found.retryable is False


def test_a_compressed_icon_that_inflates_past_the_cap_is_refused(page_server, settings):
    settings.FAVICON_MAX_BYTES = 4096
    url = page_server.route("/favicon.ico", PNG_ICON + b"\0" * 200_000, gzip=True)
    found = fetch_favicon([url])
    assert found.png == b"" and "too large (more than 4096 bytes)" in found.error


def test_an_icon_that_never_ends_is_refused_at_the_cap(page_server, settings):
    settings.FAVICON_MAX_BYTES = 4096
    found = fetch_favicon([page_server.route("/favicon.ico", PNG_ICON, endless=True)])
    assert found.png == b"" and found.error.endswith("too large (more than 4096 bytes)")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!doctype html><title>Not found</title>", "text/html"),  # a "soft 404" page
        (b"<!doctype html><title>Not found</title>", "image/png"),  # ... that says it is an image
        (b"GIF89a but not really", "image/gif"),
        (b"", "image/x-icon"),
        (b"%PDF-1.4 something", "application/octet-stream"),
    ],
)
def test_an_answer_that_is_not_an_image_is_refused(page_server, body, content_type):
    found = fetch_favicon([page_server.route("/favicon.ico", body, headers={"Content-Type": content_type})])
    assert found.png == b"" and found.error
    assert found.retryable is False


@pytest.mark.parametrize("content_type", ["image/svg+xml", "image/png", "application/octet-stream"])
def test_an_svg_icon_is_refused_whatever_it_is_sent_as(page_server, content_type):
    found = fetch_favicon([page_server.route("/icon.svg", SVG_ICON, headers={"Content-Type": content_type})])
    assert found.png == b"" and found.error


def test_an_image_claiming_large_dimensions_is_refused_without_decoding(page_server):
    found = fetch_favicon([page_server.route("/favicon.ico", huge_png(5000, 4000))])
    assert found.png == b""
    assert found.error.endswith("too large an image (5000x4000 pixels)")


def test_a_decompression_bomb_is_refused_without_decoding(page_server):
    found = fetch_favicon([page_server.route("/favicon.ico", huge_png(30_000, 30_000))])
    assert found.png == b""
    assert found.error.endswith("too large an image (more than 1024x1024 pixels)")


def test_a_file_that_is_both_an_image_and_a_script_keeps_only_its_pixels(page_server):
    polyglot = PNG_ICON + b"<script>alert(document.cookie)</script><html><body onload=alert(1)>"
    found = fetch_favicon([page_server.route("/favicon.ico", polyglot, headers={"Content-Type": "image/png"})])
    assert found.png and b"<script" not in found.png and b"onload" not in found.png
    assert picture(found.png).size == (32, 32)


def test_a_server_error_is_worth_asking_again_later(page_server):
    found = fetch_favicon([page_server.route("/favicon.ico", status=503)])
    assert found.png == b"" and found.error.endswith("HTTP 503")


def test_an_icon_that_takes_too_long_is_given_up_and_may_be_asked_again(page_server):
    url = page_server.route("/favicon.ico", PNG_ICON, drip_body=0.5, headers={"Content-Type": "image/png"})
    found = fetch_favicon([url], timeout=0.5)
    assert found.png == b"" and found.retryable is True


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "[::1]", "[::ffff:127.0.0.1]"])
def test_an_icon_on_a_loopback_address_is_refused_before_connecting(page_server, settings, host):
    settings.FETCH_ALLOW_NETWORKS = []
    page_server.route("/favicon.ico", PNG_ICON)
    found = fetch_favicon([f"http://{host}:{page_server.port}/favicon.ico"])
    assert found.png == b"" and found.retryable is False
    assert found.error.endswith(" is not a public address")
    assert page_server.requests == []


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1"])
def test_an_icon_on_a_private_address_is_refused_by_the_policy(address):
    # Non-loopback ranges are refused before any connection is tried (tests never connect to them).
    found = fetch_favicon([f"http://{address}/favicon.ico"])
    assert found.png == b""
    assert found.error == f"http://{address}/favicon.ico: blocked: {address} is not a public address"


def test_an_icon_that_redirects_to_a_private_address_is_refused(page_server):
    with PageServer(host="127.0.0.2") as inside:  # not in FETCH_ALLOW_NETWORKS: page_server allows 127.0.0.1 only
        inside.route("/secret.png", PNG_ICON)
        page_server.route("/favicon.ico", status=302, headers={"Location": inside.url("/secret.png")})
        found = fetch_favicon([page_server.url("/favicon.ico")])
        assert found.png == b"" and "blocked: 127.0.0.2 is not a public address" in found.error
        assert inside.requests == []


def test_a_page_naming_only_an_svg_icon_points_the_fetch_at_favicon_ico(page_server):
    url = page_server.route("/", page_naming_icon("/icon.svg", icon_type="image/svg+xml"))
    assert fetch_page_metadata(url).favicon_url == page_server.url("/favicon.ico")


def test_a_page_naming_an_svg_and_a_png_icon_points_the_fetch_at_the_png(page_server):
    head = '<link rel="icon" href="/icon.svg"><link rel="icon" type="image/png" href="/icon-32.png">'
    url = page_server.route("/", f"<!doctype html><html><head><title>T</title>{head}</head></html>")
    assert fetch_page_metadata(url).favicon_url == page_server.url("/icon-32.png")

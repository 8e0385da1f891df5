"""The fetcher against a real page server on loopback: decoding, extraction, hostile servers."""

from __future__ import annotations

import gzip
import ipaddress
import json
import tracemalloc
import zlib
from io import StringIO

import brotli
import pytest
from django.core.management import call_command

from bookmarks.fetching.metadata import fetch_page_metadata
from tests.fixtures.pages import PageServer

HTML = "text/html"


def page(title_html: str, head: str = "", body: str = "<p>text</p>") -> str:
    return f"<!doctype html><html><head>{head}{title_html}</head><body>{body}</body></html>"


def fetch(url: str, **options):
    return fetch_page_metadata(url, **options)


# --- decoding -----------------------------------------------------------------


def test_utf8_title_is_read(page_server):
    url = page_server.route("/", page("<title>Grüße – 你好</title>"))
    result = fetch(url)
    assert (result.ok, result.title, result.error) == (True, "Grüße – 你好", None)


def test_gbk_page_labelled_gb2312_keeps_gbk_only_characters(page_server):
    # 镕 and 珺 are in GBK but not in GB2312: a strict gb2312 decoder would fail.
    body = page('<meta charset="gb2312"><title>朱镕基与珺的收藏</title>').encode("gbk")
    url = page_server.route("/", body, headers={"Content-Type": HTML})
    assert fetch(url).title == "朱镕基与珺的收藏"


def test_a_short_page_labelled_gb2312_is_read_as_gbk_without_detection_to_rescue_it(page_server):
    # Too short for charset detection: only the label mapping (gb2312 -> gb18030) gets it right.
    body = '<meta charset="gb2312"><title>镕珺</title>'.encode("gbk")
    url = page_server.route("/", body, headers={"Content-Type": HTML})
    assert fetch(url).title == "镕珺"


def test_a_page_declaring_utf_7_is_not_decoded_as_utf_7(page_server):
    # As UTF-7, "+ADw-" would become "<": browsers refuse the label, and so do we.
    body = b'<meta charset="utf-7"><title>a +ADw-b+AD4- c</title>'
    url = page_server.route("/", body, headers={"Content-Type": HTML})
    assert fetch(url).title == "a +ADw-b+AD4- c"


def test_big5_declared_only_in_the_header_is_read(page_server):
    body = page("<title>繁體中文網站</title>").encode("big5")
    url = page_server.route("/", body, headers={"Content-Type": "text/html; charset=big5"})
    assert fetch(url).title == "繁體中文網站"


def test_shift_jis_declared_in_http_equiv_is_read(page_server):
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    body = page("<title>日本語のページ</title>", head=meta).encode("shift_jis")
    url = page_server.route("/", body, headers={"Content-Type": HTML})
    assert fetch(url).title == "日本語のページ"


def test_byte_order_mark_wins_over_a_conflicting_header(page_server):
    body = b"\xef\xbb\xbf" + page("<title>Ünïcödé</title>").encode("utf-8")
    url = page_server.route("/", body, headers={"Content-Type": "text/html; charset=iso-8859-1"})
    assert fetch(url).title == "Ünïcödé"


def test_header_charset_wins_over_a_conflicting_meta(page_server):
    body = page('<meta charset="iso-8859-1"><title>Café 中文</title>').encode("utf-8")
    url = page_server.route("/", body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert fetch(url).title == "Café 中文"


def test_a_declared_charset_that_cannot_decode_the_page_is_skipped(page_server):
    text = "<p>这是一个用简体中文写的网页，用来测试编码的检测是否正确。我们收藏网址，也收藏文章。</p>"
    body = page('<meta charset="utf-8"><title>中文标题</title>', body=text).encode("gb18030")
    url = page_server.route("/", body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert fetch(url).title == "中文标题"


def test_undeclared_windows_1252_is_read_as_windows_1252(page_server):
    title = "Café – naïve “quoted” déjà vu"
    body = page(f"<title>{title}</title>", body="<p>Crème brûlée à la carte, s’il vous plaît.</p>").encode("cp1252")
    url = page_server.route("/", body, headers={"Content-Type": HTML})
    assert fetch(url).title == title


# --- extraction ---------------------------------------------------------------


def test_og_title_is_used_when_there_is_no_title_element(page_server):
    url = page_server.route("/", page("", head='<meta property="og:title" content="From Open Graph">'))
    assert fetch(url).title == "From Open Graph"


def test_twitter_title_is_used_when_there_is_no_title_or_og_title(page_server):
    url = page_server.route("/", page("", head='<meta name="twitter:title" content="From Twitter">'))
    assert fetch(url).title == "From Twitter"


def test_first_h1_is_used_when_the_head_has_no_title(page_server):
    filler = "<p>" + "words " * 5000 + "</p>"
    url = page_server.route("/", page("", body=f"{filler}<h1>The <b>real</b>\n heading</h1><h1>Second</h1>"))
    assert fetch(url).title == "The real heading"


def test_entities_whitespace_and_control_characters_are_cleaned(page_server):
    raw = "<title>\n  Tom &amp; Jerry&nbsp;&#x2014;\t the   &lt;show&gt;\x07 \u202e</title>"
    url = page_server.route("/", page(raw))
    assert fetch(url).title == "Tom & Jerry — the <show>"


def test_a_10000_character_title_is_capped(page_server):
    url = page_server.route("/", page(f"<title>{'x' * 10_000}</title>"))
    title = fetch(url).title
    assert len(title) == 500
    assert title.endswith("…")


def test_description_site_name_favicon_and_image_are_resolved_against_the_final_url(page_server):
    head = (
        '<meta name="description" content="  A  page\nabout things ">'
        '<meta property="og:site_name" content="Example Site">'
        '<link rel="icon" href="/static/icon.png">'
        '<meta property="og:image" content="img/cover.jpg">'
    )
    page_server.route("/old", status=301, headers={"Location": "/new/page"})
    page_server.route("/new/page", page("<title>T</title>", head=head))
    result = fetch(page_server.url("/old"))
    assert result.final_url == page_server.url("/new/page")
    assert result.description == "A page about things"
    assert result.site_name == "Example Site"
    assert result.favicon_url == page_server.url("/static/icon.png")
    assert result.image_url == page_server.url("/new/img/cover.jpg")


def test_links_that_are_not_http_are_dropped(page_server):
    head = '<link rel="icon" href="javascript:alert(1)"><meta property="og:image" content="data:image/png;base64,AAAA">'
    result = fetch(page_server.route("/", page("<title>T</title>", head=head)))
    assert result.favicon_url == page_server.url("/favicon.ico")
    assert result.image_url == ""


def test_a_gzip_compressed_page_is_read(page_server):
    url = page_server.route("/", page("<title>Compressed</title>"), gzip=True)
    assert fetch(url).title == "Compressed"


def test_a_brotli_compressed_page_is_read(page_server):
    body = brotli.compress(page("<title>Brotli</title>").encode())
    url = page_server.route("/", body, headers={"Content-Encoding": "br"})
    assert fetch(url).title == "Brotli"


def test_a_pdf_is_not_read_and_takes_its_title_from_the_file_name(page_server):
    url = page_server.route("/files/annual%20report.pdf", endless=True, headers={"Content-Type": "application/pdf"})
    result = fetch(url)
    assert (result.ok, result.title, result.content_type) == (True, "annual report.pdf", "application/pdf")


def test_a_missing_page_is_a_final_failure(page_server):
    result = fetch(page_server.url("/missing"))
    assert (result.ok, result.http_status, result.error, result.retryable) == (False, 404, "HTTP 404", False)


def test_a_server_error_is_retryable(page_server):
    result = fetch(page_server.route("/", "oops", status=503))
    assert (result.ok, result.http_status, result.retryable) == (False, 503, True)


def test_fetch_metadata_command_prints_one_json_object(page_server):
    url = page_server.route("/", page("<title>Command</title>"))
    out = StringIO()
    call_command("fetch_metadata", url, stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {
        "url", "final_url", "ok", "title", "description", "site_name",
        "favicon_url", "image_url", "content_type", "http_status", "error",
    }  # fmt: skip
    assert (data["ok"], data["title"], data["http_status"], data["error"]) == (True, "Command", 200, None)


# --- hostile servers ----------------------------------------------------------
# No time is asserted: a fetch that waited for the server would end otherwise
# (a page sent one byte a second arrives whole, with its title, minutes later;
# an endless body ends in a timeout, not at the cap), and one that did not
# stop at the byte cap would hold the whole body (the peak memory).


def _fetch_bounded(url: str, **options):
    tracemalloc.start()
    try:
        result = fetch(url, **options)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_gzip_bomb_is_cut_at_the_byte_cap(page_server):
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    data = bomb.compress(b"<html><body>") + b"".join(bomb.compress(bytes(1 << 20)) for _ in range(200)) + bomb.flush()
    url = page_server.route("/", data, headers={"Content-Encoding": "gzip"})
    result, peak = _fetch_bounded(url, timeout=5)
    assert result.error == "no title found in the page"  # it stopped reading: 200 MB never came out
    assert peak < 16 * 1024 * 1024


@pytest.mark.timeout(30)  # a fetch that waited for the drip would take minutes
def test_a_server_sending_headers_one_byte_per_second_hits_the_deadline(page_server):
    url = page_server.route("/", page("<title>Slow</title>"), drip=1.0)
    result, _peak = _fetch_bounded(url, timeout=1.5)
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith("timeout")


@pytest.mark.timeout(30)  # a fetch that waited for the drip would take minutes
def test_a_body_sent_one_byte_per_second_hits_the_deadline(page_server):
    url = page_server.route("/", page("<title>Slow</title>"), drip_body=0.5)
    result, _peak = _fetch_bounded(url, timeout=1.5)
    assert result.error.startswith("timeout")


def test_an_endless_body_is_cut_at_the_byte_cap(page_server):
    url = page_server.route("/", b"<p>filler</p>", endless=True)
    result, peak = _fetch_bounded(url, timeout=5, max_bytes=1024 * 1024)
    assert result.error == "no title found in the page"
    assert peak < 16 * 1024 * 1024


def test_reading_stops_at_the_end_of_a_head_with_a_title(page_server):
    url = page_server.route("/", page("<title>Early</title>", body="<p>more</p>"), endless=True)
    assert fetch(url, timeout=5).title == "Early"


def test_a_redirect_loop_ends_after_five_redirects(page_server):
    page_server.route("/a", status=302, headers={"Location": "/b"})
    page_server.route("/b", status=302, headers={"Location": "/a"})
    result = fetch(page_server.url("/a"))
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == "too many redirects (more than 5)"
    assert len(page_server.requests) == 6


def test_a_redirect_to_127_0_0_1_on_another_port_is_refused(settings):
    with PageServer("127.0.0.2") as outside, PageServer("127.0.0.1") as inside:
        settings.FETCH_ALLOW_NETWORKS = [ipaddress.ip_network("127.0.0.2/32")]
        inside.route("/admin", page("<title>Internal admin</title>"))
        outside.route("/", status=302, headers={"Location": inside.url("/admin")})
        result = fetch(outside.url("/"))
    assert result.error == "blocked: 127.0.0.1 is not a public address"
    assert result.retryable is False
    assert inside.requests == []


def test_every_redirect_is_checked_against_the_address_policy_again(page_server):
    # The first page is allowed (loopback, by the fixture's FETCH_ALLOW_NETWORKS); its redirect target is not.
    page_server.route("/", status=302, headers={"Location": "http://10.1.2.3/internal"})
    result = fetch(page_server.url("/"))
    assert (result.ok, result.retryable, result.error) == (False, False, "blocked: 10.1.2.3 is not a public address")


def test_a_link_naming_a_network_interface_is_refused_with_a_reason():
    result = fetch("http://[::1%25lo]:18555/")
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == "blocked: a link cannot name a network interface"


def test_a_redirect_to_a_broken_url_ends_as_a_clear_failure(page_server):
    page_server.route("/", status=302, headers={"Location": "http://[::1/"})
    result = fetch(page_server.url("/"))
    assert (result.ok, result.retryable, result.error) == (False, False, "not a valid URL")


def test_gzip_bytes_from_the_fixture_are_real_gzip():
    # Guards the hostile-server tests above against a fixture that stopped compressing.
    assert gzip.decompress(gzip.compress(b"x")) == b"x"

"""The de-duplication key: what counts as "the same link"."""

import pytest

from bookmarks.normalize import InvalidURL, clean_url, fallback_title, normalize_url, with_default_scheme

SAME_KEY = [
    # (as sent, expected key)
    ("https://example.com", "https://example.com/"),
    ("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"),
    ("https://Example.COM./a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com/post/", "https://example.com/post"),
    ("https://example.com/post//", "https://example.com/post"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/post#comments", "https://example.com/post"),
    ("https://example.com/p?utm_source=x&utm_medium=y&id=3", "https://example.com/p?id=3"),
    ("https://example.com/p?id=3&fbclid=abc", "https://example.com/p?id=3"),
    ("https://example.com/p?gclid=1&b=2&a=1", "https://example.com/p?b=2&a=1"),
    ("https://item.taobao.com/item.htm?id=42&spm=a1z10.1", "https://item.taobao.com/item.htm?id=42"),
    ("https://example.com/p?UTM_Campaign=z", "https://example.com/p"),
    ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
    ("https://中文.例子.公司/路径", "https://xn--fiq228c.xn--fsqu00a.xn--55qx5d/%E8%B7%AF%E5%BE%84"),
    ("https://xn--fiq228c.xn--fsqu00a.xn--55qx5d/", "https://xn--fiq228c.xn--fsqu00a.xn--55qx5d/"),
    ("https://example.com/%7euser/%2f", "https://example.com/~user/%2F"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ("  https://example.com/trim  ", "https://example.com/trim"),
    ("https://user:pw@example.com/", "https://user:pw@example.com/"),
    ("https://my_host.example.com/", "https://my_host.example.com/"),
]


@pytest.mark.parametrize(("sent", "key"), SAME_KEY)
def test_normalize_url_gives_the_expected_key(sent, key):
    assert normalize_url(sent) == key


REJECTED = [
    ("ftp://example.com/file", "Only http and https"),
    ("javascript:alert(1)", "Only http and https"),
    ("mailto:someone@example.com", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("data:text/html,hi", "Only http and https"),
    ("example.com", "must start with http"),
    ("", "empty"),
    ("   ", "empty"),
    ("https://", "no host"),
    ("https://example.com:99999/", "invalid host or port"),
    ("http://[::1%25lo]:18555/", "invalid host or port"),  # an IPv6 zone: one of our own interfaces
    ("http://[::1/", "invalid host or port"),
    ("https://exa mple.com/", "not a valid host"),
    ("https://example.com/\x00", "control characters"),
    ("https://example.com/" + "a" * 9000, "longer than"),
]


@pytest.mark.parametrize(("sent", "message"), REJECTED)
def test_unsaveable_urls_are_rejected_with_a_clear_message(sent, message):
    with pytest.raises(InvalidURL, match=message):
        normalize_url(sent)


def test_clean_url_keeps_the_url_as_sent():
    sent = "https://Example.com/Post/?utm_source=x#frag"
    assert clean_url(sent) == sent


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.com/page", "https://example.com/page"),
        ("localhost:8000/x", "https://localhost:8000/x"),
        ("http://example.com", "http://example.com"),
        ("mailto:x@example.com", "mailto:x@example.com"),
    ],
)
def test_with_default_scheme_adds_https_only_where_no_scheme_was_typed(typed, expected):
    assert with_default_scheme(typed) == expected


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://www.example.com/blog/post/", "example.com/blog/post"),
        ("https://example.com/", "example.com"),
        ("https://xn--fiq228c.xn--fsqu00a.xn--55qx5d/%E8%B7%AF", "中文.例子.公司/路"),
    ],
)
def test_fallback_title_is_host_and_path(url, title):
    assert fallback_title(url) == title

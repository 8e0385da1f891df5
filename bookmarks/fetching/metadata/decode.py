"""Bytes to text for HTML pages, in the order browsers use.

1. A byte order mark. 2. The charset in the Content-Type header. 3. A
``<meta>`` charset (either form) or an XML declaration near the top.
4. UTF-8 if the bytes are valid UTF-8, else detection (charset_normalizer).
Labels are mapped as the WHATWG Encoding standard does (gb2312 -> gb18030,
big5 -> big5hkscs, iso-8859-1 -> windows-1252, ...). A declared charset that
Python does not know, or that fails to decode the bytes, is skipped.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

__all__ = ["decode_html", "python_codec"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

# WHATWG label -> the Python codec that decodes what browsers decode.
_WHATWG = {
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312", "gb_2312-80", "chinese", "csgb2312", "iso-ir-58"), "gb18030"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "ms932", "windows-31j", "csshiftjis"), "cp932"
    ),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ksc5601", "korean", "windows-949", "cseuckr"), "cp949"),
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "ansi_x3.4-1968", "cp819"), "cp1252"
    ),
    **dict.fromkeys(("iso-8859-9", "latin5", "l5"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11"), "cp874"),
    # An ASCII-compatible page cannot really be UTF-16; browsers read it as UTF-8.
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "unicode", "ucs-2"), "utf-8"),
}
# Codecs browsers never decode a page with (the Encoding standard has no UTF-7
# or UTF-32, and maps HZ and ISO-2022-KR to "replacement"): a page declaring
# one is read as if it declared nothing. UTF-7 in particular lets a page hide
# markup from filters that read it as ASCII.
_REFUSED_CODECS = {"utf-7", "utf-32", "utf-32-le", "utf-32-be", "hz", "iso2022_kr"}
# Single-byte Western guesses from detection are read as windows-1252, the
# superset browsers use for undeclared Western pages.
# (Detection cannot tell Latin code pages apart on short pages: it says
# cp1257 for French.)
_WESTERN_GUESSES = {
    "ascii", "latin_1", "cp1250", "cp1252", "cp1254", "cp1257", "cp850", "cp437", "mac_roman", "mac_latin2",
    "mac_iceland", "mac_turkish", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13",
    "iso8859_14", "iso8859_15", "iso8859_16",
}  # fmt: skip

_META_CHARSET = re.compile(rb"""<meta[^>]{0,500}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""", re.I)
_PRESCAN_BYTES = 4096


def python_codec(label: str) -> str | None:
    """The Python codec for a charset label, or None when unknown."""
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    label = _WHATWG.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return None if name in _REFUSED_CODECS else name


def decode_html(data: bytes, header_charset: str = "", *, complete: bool = True) -> tuple[str, str]:
    """Decode a page (or its beginning, when ``complete`` is false); returns (text, codec name)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], codec, complete), codec
    declared = [header_charset]
    top = data[:_PRESCAN_BYTES]
    for pattern in (_META_CHARSET, _XML_DECLARATION):
        match = pattern.search(top)
        if match:
            declared.append(match.group(1).decode("ascii"))
    for label in declared:
        codec = python_codec(label) if label else None
        text = _strict(data, codec, complete) if codec else None
        if text is not None:
            return text, codec
    text = _strict(data, "utf-8", complete)
    if text is not None:
        return text, "utf-8"
    codec = _detect(data)
    return _decode(data, codec, complete), codec


def _strict(data: bytes, codec: str, complete: bool) -> str | None:
    """The text if ``codec`` decodes ``data`` without errors, else None."""
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(data, final=complete)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode(data: bytes, codec: str, complete: bool) -> str:
    # A page cut at the byte cap may end inside a character: not final, no U+FFFD for it.
    return codecs.getincrementaldecoder(codec)("replace").decode(data, final=complete)


def _detect(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data[:65536]).best()
    if best is None:
        return "cp1252"
    codec = python_codec(best.encoding) or "cp1252"
    return "cp1252" if codec in _WESTERN_GUESSES or best.encoding in _WESTERN_GUESSES else codec

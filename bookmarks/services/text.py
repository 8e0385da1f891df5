"""Cleaning what people type or import (titles, notes, tag names) before it is stored."""

from __future__ import annotations

import re

# Control characters other than tab and newline, and the invisible ones that can
# disguise text: bidirectional embeddings, overrides and isolates, the zero-width
# space, the byte-order mark and the soft hyphen (the fetcher drops the same from
# page titles). A control character in a tag name also broke XML feeds.
UNSAFE_CHARS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str) -> str:
    """Strip, and drop control and disguising invisible characters (newlines and tabs stay)."""
    return UNSAFE_CHARS_RE.sub("", text or "").strip()

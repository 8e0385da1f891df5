"""Why a fetch failed, as the pages tell it.

The fetcher records its reason in English on the row (``fetch_error``, the
same text as the ``error`` of ``manage.py fetch_metadata``).
"""

from __future__ import annotations

# The reasons of a page that was read but named itself nowhere (fetcher.py).
_MISSING_TITLE_PREFIX = "no title"


def is_missing_title(error: str) -> bool:
    """Whether the page was reached and only its title was missing (a title the person typed makes up for it)."""
    return error.startswith(_MISSING_TITLE_PREFIX)

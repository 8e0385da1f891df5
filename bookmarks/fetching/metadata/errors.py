"""Why a fetch produced no page: the errors the client and the resolver raise (``Blocked`` lives in policy)."""

from __future__ import annotations

__all__ = ["ConnectionFailed", "FetchError", "Timeout"]


class FetchError(Exception):
    """A fetch that did not produce a page. ``retryable`` says whether trying later may help."""

    retryable = False


class Timeout(FetchError):
    retryable = True


class ConnectionFailed(FetchError):
    retryable = True

"""Safe, bounded fetching of page metadata (titles and friends), usable without Celery.

``fetch_page_metadata(url)`` returns a ``PageMetadata``; ``check_address(ip)``
is the address policy (raises ``Blocked``). Settings: ``FETCH_TIMEOUT`` (one
deadline for the whole fetch, redirects included), ``FETCH_MAX_BYTES`` (cap on
decompressed bytes read), ``FETCH_ALLOW_NETWORKS`` (CIDRs exempt from the
policy).
"""

from bookmarks.fetching.metadata.fetcher import MAX_REDIRECTS, PageMetadata, fetch_page_metadata
from bookmarks.fetching.metadata.policy import Blocked, check_address

__all__ = ["MAX_REDIRECTS", "Blocked", "PageMetadata", "check_address", "fetch_page_metadata"]

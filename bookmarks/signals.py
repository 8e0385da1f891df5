"""Signals other apps listen to (the IM gateway's confirmations, live pages)."""

from django.dispatch import Signal

# Sent once a page fetch for a bookmark has ended for good (status ``ok`` or
# ``failed``; not between retries), after the row is committed.
# Arguments: ``bookmark`` (the updated Bookmark instance).
bookmark_fetched = Signal()

"""Signals other apps listen to (the IM gateway's confirmations, live pages)."""

from django.dispatch import Signal

# Sent once a page fetch for a bookmark has ended for good (status ``ok`` or
# ``failed``; not between retries), after the row is committed.
# Arguments: ``bookmark`` (the updated Bookmark instance). Sent robustly: a
# receiver that raises is logged (``django.dispatch``) and changes nothing else.
bookmark_fetched = Signal()

# Sent when a page fetch's final result is written, inside the transaction that
# writes it (and when the sweep gives up on a bookmark, inside its
# transaction). Receivers may write in that transaction: their writes commit
# or roll back with the result, and cost no write transaction of their own
# (SQLite has one writer). Anything outside the database belongs in
# ``transaction.on_commit``. Arguments: ``bookmarks`` (the updated instances:
# the worker writes the results of fetches ending together at once).
bookmark_fetch_recorded = Signal()

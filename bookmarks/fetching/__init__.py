"""Fetching what a bookmarked page says: the safe fetcher (``metadata``) and what a fetch records."""

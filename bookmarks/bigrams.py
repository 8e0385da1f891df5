"""The two-character pieces of a text that hold a non-ASCII character: how SQLite finds 收藏 in kept page text.

SQLite's trigram index cannot answer a two-character term, and scanning
every kept text (about 12 KB each) for one takes seconds at 100,000
bookmarks. So each kept text also stores its distinct pieces of two letters
or digits of which at least one is not ASCII (``PageText.pairs``, space
separated), and an FTS5 table with the ``unicode61`` tokenizer indexes them
as words (migration 0016): a two-character term is then one token lookup.
All-ASCII pairs are left out, as on PostgreSQL (migration 0008): they match
a large share of any collection, and the scan finds them early. A pair with
punctuation is left out too (the tokenizer would split it), so a term with
punctuation is scanned. PostgreSQL needs none of this: it indexes the same
pieces with a GIN expression index, so ``pairs`` stays empty there.
"""

from __future__ import annotations

__all__ = ["indexable_pair", "text_pairs"]


def indexable_pair(term: str) -> bool:
    """Whether a two-character term can be looked up among the pairs."""
    return len(term) == 2 and term.isalnum() and not term.isascii()


def text_pairs(text: str) -> str:
    """The distinct indexable pairs of ``text``, upper-cased, space separated (see the module docstring)."""
    upper = text.upper()
    seen: dict[str, None] = {}
    for first, second in zip(upper, upper[1:], strict=False):
        if (not first.isascii() or not second.isascii()) and first.isalnum() and second.isalnum():
            seen[first + second] = None
    return " ".join(seen)

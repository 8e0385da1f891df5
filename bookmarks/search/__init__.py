"""Searching a user's bookmarks.

Query syntax (see docs/DESIGN.md, "Search"):

- ``word``: must appear, ignoring case, as a substring of the title, the page
  title, the URL, the note or the description; several words are ANDed;
- ``"exact phrase"`` (also with Chinese quotes “…”): the phrase as a substring;
- ``#tag``: the bookmark has that tag (ignoring case);
- ``-word``, ``-"phrase"``, ``-#tag``: excludes.

Acceleration, both kept in sync by the database itself (migration 0003):
PostgreSQL has a pg_trgm GIN index over the concatenated text, which ILIKE
uses for any term of three or more characters; SQLite has an FTS5 trigram
table filled by triggers (a bulk import fills it per batch instead:
``sqlite_index``). Trigrams cannot find shorter terms (two-character
Chinese words such as 收藏), so those are plain scans, narrowed by the other
terms of the query, except that PostgreSQL answers two-character terms with a
non-ASCII character (收藏, B站, été) from a GIN index of each bookmark's
two-character pieces that hold one (migrations 0007, 0008). All-ASCII
two-character terms (``qu``) are scanned: they match a large share of any
collection, so the scan fills a page early, and indexing every Latin pair
made imports three times slower.

Kept page text (``PageText.text``, issue 19) is searched too: a word or
phrase matches a bookmark when it is in those fields or in its page's text.
``in:title`` limits a query to the fields above (title, URL, note,
description). ``is:broken`` and ``is:moved`` keep the bookmarks whose link
check (``LinkHealth``) says so; ``-is:broken`` leaves them out.
``is:unread``, ``is:private``, ``is:untagged`` and ``from:chat`` (``web``,
``import``, ``api``) are the list's filters (``search.filters``). The text
has indexes of its own (migration 0014): an FTS5
trigram table on SQLite, pg_trgm and the two-character index on PostgreSQL;
on SQLite a two-character term with a non-ASCII letter (榫卯) is looked up
in an FTS5 index of each text's pairs (``bookmarks.bigrams``, migration
0016); other terms of one or two characters scan the texts. PostgreSQL
checks a word in most texts row by row instead (``_walks_rows``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, Lookup, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import In

from bookmarks.bigrams import indexable_pair
from bookmarks.models import Bookmark, LinkHealth, PageText, Tag
from bookmarks.search.filters import FILTER_QUALIFIERS, qualifier_conditions

SEARCH_FIELDS = ("title", "page_title", "url", "note", "description")
MAX_TERMS = 20
MAX_TERM_LENGTH = 200
# Shorter terms have no trigram: the indexes cannot answer them.
TRIGRAM = 3
FTS_TABLE = "bookmarks_bookmark_fts"
TEXT_FTS_TABLE = "bookmarks_pagetext_fts"
_FTS_MATCH_SQL = "SELECT rowid FROM bookmarks_bookmark_fts WHERE bookmarks_bookmark_fts MATCH %s"
_TEXT_MATCH_SQL = "SELECT rowid FROM bookmarks_pagetext_fts WHERE bookmarks_pagetext_fts MATCH %s"
_PAIRS_MATCH_SQL = "SELECT rowid FROM bookmarks_pagetext_pairs_fts WHERE bookmarks_pagetext_pairs_fts MATCH %s"
_COUNT_SQL = "SELECT count(*) FROM ({} LIMIT %s)"
# Qualifiers: a word exactly like these (any case) is not searched for.
IN_TITLE = "in:title"
IS_BROKEN = "is:broken"
IS_MOVED = "is:moved"
QUALIFIERS = (IN_TITLE, IS_BROKEN, IS_MOVED, *FILTER_QUALIFIERS)
# Fewer FTS matches than this are looked up one by one (see _fts_filter).
FTS_FEW = 2000
# PostgreSQL: a word in at least this share of the newest WALK_SAMPLE texts is
# checked row by row down the newest-first index (see _walks_rows).
WALK_SAMPLE = 40
WALK_SHARE = 0.5

_TOKEN_RE = re.compile(r'(-?)(?:["“”]([^"“”]*)["“”]?|(\S+))')


@dataclass(frozen=True)
class Term:
    text: str
    tag: bool = False
    exclude: bool = False
    # ``in:title`` and friends: ``text`` is the qualifier, lower-cased.
    qualifier: bool = False

    @property
    def word(self) -> bool:
        """A word or phrase to find in the text (not a tag, not a qualifier)."""
        return not self.tag and not self.qualifier


def parse_query(query: str) -> list[Term]:
    """The terms of a query string, in order; empty pieces are dropped."""
    terms: list[Term] = []
    # No stored text holds a NUL (PostgreSQL cannot), and PostgreSQL refuses
    # one in a parameter: "?q=%00" would be a server error.
    for match in _TOKEN_RE.finditer((query or "").replace("\x00", "")):
        negated, phrase, word = match.group(1) == "-", match.group(2), match.group(3)
        if phrase is not None:
            text, tag = " ".join(phrase.split()), False
        elif word.lower() in QUALIFIERS:
            terms.append(Term(word.lower(), exclude=negated, qualifier=True))
            continue
        elif word.startswith("#"):
            text, tag = word.lstrip("#"), True
        else:
            text, tag = word, False
        if text:
            terms.append(Term(text[:MAX_TERM_LENGTH], tag=tag, exclude=negated))
    return terms[:MAX_TERMS]


def search_bookmarks(queryset: QuerySet[Bookmark], query: str) -> QuerySet[Bookmark]:
    """``queryset`` narrowed to the bookmarks matching ``query``."""
    terms = parse_query(query)
    in_text = not any(term.qualifier and term.text == IN_TITLE and not term.exclude for term in terms)
    collection = queryset  # sampled for common words before any term narrows it (and costs)
    for term in terms:
        if term.qualifier and term.text != IN_TITLE:
            condition = qualifier_conditions().get(term.text) or _health_condition(term.text)
            queryset = queryset.exclude(condition) if term.exclude else queryset.filter(condition)
    terms = [term for term in terms if not term.qualifier]
    if connection.vendor == "sqlite":
        queryset, terms = _fts_filter(queryset, terms, in_text)
    for term in terms:
        if term.tag:
            condition = _tag_condition(term.text)
        elif in_text and not term.exclude and _walks_rows(collection, term.text):
            condition = _row_by_row_condition(term.text)
        else:
            condition = _text_condition(term.text, in_text)
        queryset = queryset.exclude(condition) if term.exclude else queryset.filter(condition)
    return queryset


def searches_text(query: str) -> bool:
    """Whether ``query`` looks in the kept page text (it has a word and no ``in:title``)."""
    terms = parse_query(query)
    return any(term.word for term in terms) and not any(
        term.qualifier and term.text == IN_TITLE and not term.exclude for term in terms
    )


def with_tags_matching(
    bookmarks: QuerySet[Bookmark], owner: object, tags: Iterable[str] = (), query: str = ""
) -> QuerySet[Bookmark]:
    """``bookmarks`` (``owner``'s) narrowed to those with every tag named in ``tags`` (ignoring case) that
    match ``query``: what the list page, the feeds and the API filter by."""
    for name in tags:
        # Resolving the tag first lets the database start from its few bookmarks.
        tag = Tag.objects.filter(owner=owner, name__iexact=name).first()
        if tag is None:
            return bookmarks.none()
        bookmarks = bookmarks.filter(tags=tag)
    return search_bookmarks(bookmarks, query) if query else bookmarks


def _health_condition(qualifier: str) -> Q:
    """``is:broken``: a link confirmed broken; ``is:moved``: one that answers at another address."""
    rows = LinkHealth.objects.filter(bookmark_id=OuterRef("pk"))
    if qualifier == IS_BROKEN:
        return Q(Exists(rows.filter(broken=True)))
    return Q(Exists(rows.filter(outcome=LinkHealth.Outcome.MOVED, broken=False)))


def _tag_condition(name: str) -> Q:
    through = Bookmark.tags.through
    return Q(Exists(through.objects.filter(bookmark_id=OuterRef("pk"), tag__name__iexact=name)))


def _text_condition(text: str, in_text: bool = False) -> Q:
    condition = _field_condition(text)
    if not in_text:
        return condition
    if connection.vendor == "postgresql" and (len(text) >= TRIGRAM or not text.upper().isascii()):
        # One id list from both tables' indexes: an OR across the two tables
        # would make PostgreSQL scan every bookmark instead.
        fields = Bookmark.objects.filter(condition).values("id")
        return Q(id__in=fields.union(_page_texts_with(text).values("bookmark_id"), all=True))
    return condition | Q(id__in=_page_texts_with(text).values("bookmark_id"))


def _walks_rows(queryset: QuerySet[Bookmark], text: str) -> bool:
    """PostgreSQL: whether ``text`` is so common in the kept texts that checking the newest rows one by one wins.

    The trigram index cannot tell a word in every text from a rare one: each
    candidate text is read from TOAST and rechecked with ``ILIKE`` (0.1-0.4 ms
    for 12 KB), all of them before the newest 50 can be picked. A common word
    finds its page (and the count up to its cap) after a few rows of the
    newest-first index instead. Which one it is, the newest ``WALK_SAMPLE``
    bookmarks of ``queryset`` tell, with a case-sensitive ``LIKE`` of the
    lower-cased word (an estimate: a quarter of ``ILIKE``'s cost on a miss).
    """
    if connection.vendor != "postgresql" or len(text) < TRIGRAM:
        return False
    newest = queryset.order_by("-added_at", "-id").values("id")[:WALK_SAMPLE]
    lowered = Like(F("text"), _like_pattern(text.lower()))
    sample = PageText.objects.filter(bookmark_id=OuterRef("pk")).values(hit=lowered)
    hits = list(
        Bookmark.objects.filter(id__in=newest).values_list(
            Coalesce(Subquery(sample, output_field=BooleanField()), Value(False)), flat=True
        )
    )
    return bool(hits) and sum(hits) >= WALK_SHARE * len(hits)


def _row_by_row_condition(text: str) -> Q:
    """The fields or the text hold ``text``, checked for each row the query reaches (no index, no id list)."""
    return Q(ILike(SearchDocument(*SEARCH_FIELDS), _like_pattern(text))) | Q(_text_hit(text))


def _text_hit(text: str) -> Coalesce:
    """Whether this bookmark's kept text holds ``text``: a correlated scalar subquery, which PostgreSQL
    runs per row (an ``EXISTS`` may be planned as one hashed scan of every text). A case-sensitive
    ``LIKE`` first: where it finds the word (most of the rows a common word is checked on),
    ``ILIKE``'s lower-casing of the whole text is skipped; the result is ``ILIKE``'s."""
    pattern = _like_pattern(text)
    hit = PageText.objects.filter(bookmark_id=OuterRef("pk")).values(
        hit=Q(Like(F("text"), pattern)) | Q(ILike(F("text"), pattern))
    )
    return Coalesce(Subquery(hit, output_field=BooleanField()), Value(False))


def _page_texts_with(text: str) -> QuerySet[PageText]:
    """The kept page texts holding ``text`` (ignoring case)."""
    texts = PageText.objects.all()
    if connection.vendor == "postgresql" and len(text) >= TRIGRAM:
        # The read's price (migration 0017) keeps the planner from scanning every text for a long phrase.
        return texts.filter(ILike(F("text"), _like_pattern(text)), KeptTextRead(F("text")))
    if connection.vendor == "postgresql" and len(text) == TRIGRAM - 1 and not text.upper().isascii():
        return texts.filter(HasBigram(F("text"), text), text__icontains=text)
    if connection.vendor == "sqlite" and len(text) >= TRIGRAM:
        return texts.filter(bookmark_id__in=RawSQL(_TEXT_MATCH_SQL, (_fts_phrase(text),)))  # noqa: S611 (a parameter)
    if connection.vendor == "sqlite" and indexable_pair(text):
        # The text's pairs, one token each (bookmarks/bigrams.py, migration 0016): exact, no recheck needed.
        return texts.filter(bookmark_id__in=RawSQL(_PAIRS_MATCH_SQL, (_fts_phrase(text),)))  # noqa: S611
    return texts.filter(text__icontains=text)


def _field_condition(text: str) -> Q:
    if connection.vendor == "postgresql" and len(text) >= TRIGRAM:
        return Q(ILike(SearchDocument(*SEARCH_FIELDS), _like_pattern(text)))
    if connection.vendor == "postgresql" and len(text) == TRIGRAM - 1 and not text.upper().isascii():
        # The bigram index (migration 0008) finds the candidates; the per-field
        # scan keeps exactly the substring semantics. (Not ILIKE over the document:
        # the planner would read the whole trigram index for a 2-character pattern.)
        return Q(HasBigram(SearchDocument(*SEARCH_FIELDS), text)) & _scan_condition(text)
    if connection.vendor == "sqlite" and len(text) >= TRIGRAM:
        return Q(id__in=RawSQL(_FTS_MATCH_SQL, (_fts_phrase(text),)))  # noqa: S611 (the term is a parameter)
    return _scan_condition(text)


def _fts_filter(
    queryset: QuerySet[Bookmark], terms: list[Term], in_text: bool = False
) -> tuple[QuerySet[Bookmark], list[Term]]:
    """SQLite: every word and phrase of 3+ characters as one FTS5 query; returns the terms left.

    1. Fields only: ``"a" AND "b" NOT "c"``: the FTS index intersects the
       match lists itself. With the page text, each term is the union of its
       matches in both tables, and the terms are intersected (and the negative
       ones taken away) by a compound SELECT (``_fts_sql``).
    2. How to use the matches depends on how many there are, which SQLite's
       planner cannot know. A few (under ``FTS_FEW``, counted with a LIMIT,
       under a millisecond): look each one up and sort them. Many (a word in
       5 % of 100,000 rows): reading and sorting them all costs 10 ms, so
       ``+id`` makes SQLite walk the owner's newest-first index instead and
       probe the match list, stopping at the page (2 ms).
    Only negative terms: left to ``_text_condition`` (nothing to start from).
    """
    indexed = [term for term in terms if term.word and len(term.text) >= TRIGRAM]
    if not any(not term.exclude for term in indexed):
        return queryset, terms
    sql, params = _fts_sql(indexed, in_text)
    few = _few_fts_matches(indexed, in_text, sql, params)
    matches = RawSQL(sql, params)  # noqa: S611 (constant SQL, the terms are parameters)
    bookmark_id = F("id") if few else NotIndexed(F("id"))
    return queryset.filter(In(bookmark_id, matches)), [term for term in terms if term not in indexed]


def _few_fts_matches(indexed: list[Term], in_text: bool, sql: str, params: tuple[str, ...]) -> bool:
    """Whether the FTS matches are fewer than ``FTS_FEW``, counted with LIMITs so FTS5 stops early.

    With the page text, the matches of each table are a ``UNION``, which
    collects and sorts every match before the LIMIT: for a word in every
    text, a full evaluation before the page's. So each wanted term is
    counted first as ``UNION ALL`` (streamed: a bookmark found in both tables
    counts twice, an upper bound near the threshold); one under ``FTS_FEW``
    makes the whole query few. Only when every wanted term is common and
    there are several is their intersection counted exactly.
    """
    wanted = [term for term in indexed if not term.exclude]
    if in_text:
        streamed = f"{_FTS_MATCH_SQL} UNION ALL {_TEXT_MATCH_SQL}"
        if min(_count_up_to_few(streamed, (_fts_phrase(term.text),) * 2) for term in wanted) < FTS_FEW:
            return True
        if len(wanted) == 1:
            return False
    return _count_up_to_few(sql, params) < FTS_FEW


def _count_up_to_few(sql: str, params: tuple[str, ...]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL.format(sql), (*params, FTS_FEW))
        return cursor.fetchone()[0]


def _fts_sql(indexed: list[Term], in_text: bool) -> tuple[str, tuple[str, ...]]:
    """The SELECT of the ids matching every positive term and no negative one, and its parameters."""
    wanted = [_fts_phrase(term.text) for term in indexed if not term.exclude]
    unwanted = [_fts_phrase(term.text) for term in indexed if term.exclude]
    if not in_text:
        expression = "(" + " AND ".join(wanted) + ")" + "".join(f" NOT {phrase}" for phrase in unwanted)
        return _FTS_MATCH_SQL, (expression,)
    either = f"SELECT * FROM ({_FTS_MATCH_SQL} UNION {_TEXT_MATCH_SQL})"  # noqa: S608 (constants; terms are parameters)
    sql = " INTERSECT ".join([either] * len(wanted)) + "".join(f" EXCEPT {either}" for _ in unwanted)
    return sql, tuple(phrase for phrase in [*wanted, *unwanted] for _ in range(2))


def _fts_phrase(text: str) -> str:
    """A term as an FTS5 string: the trigram tokenizer folds case and matches it as a substring."""
    return '"' + text.replace('"', '""') + '"'


def _scan_condition(text: str) -> Q:
    condition = Q()
    for field in SEARCH_FIELDS:
        condition |= Q(**{f"{field}__icontains": text})
    return condition


class NotIndexed(Func):
    """SQLite: ``+column``, the same value, but the planner may not look it up in an index."""

    template = "+%(expressions)s"


class SearchDocument(Func):
    """PostgreSQL: ``title || '\\n' || page_title || ...``, the expression of the
    ``bookmark_search_trgm`` GIN index (migration 0003), so the planner can use
    it. The newline keeps a term from matching across two fields."""

    arg_joiner = " || E'\\n' || "
    template = "(%(expressions)s)"
    output_field = TextField()


class HasBigram(Func):
    """PostgreSQL: ``favsite_nonascii_bigrams(document) @> favsite_nonascii_bigrams(text)``,
    answered by ``bookmark_search_bigrams``. The same function cuts both sides (see
    migration 0008), so a term the index has no pieces for matches every row rather
    than none: a candidate filter, never the answer."""

    output_field = BooleanField()

    def __init__(self, document: Func, text: str):
        super().__init__(document)
        self.text = text

    def as_sql(self, compiler, connection, **extra):  # noqa: ANN001, ANN201 (Django's signature)
        document, params = compiler.compile(self.source_expressions[0])
        return f"favsite_nonascii_bigrams({document}) @> favsite_nonascii_bigrams(%s)", [*params, self.text]


class KeptTextRead(Func):
    """PostgreSQL: ``favsite_kept_text_read(text)``, always true, priced like reading the text (migration 0017)."""

    function = "favsite_kept_text_read"
    output_field = BooleanField()


class ILike(Lookup):
    lookup_name = "ilike"

    def as_sql(self, compiler, connection):  # noqa: ANN001, ANN201 (Django's signature)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class Like(Lookup):
    """PostgreSQL: ``LIKE`` with a ready pattern (``_like_pattern``), case-sensitive."""

    lookup_name = "favsite_like"

    def as_sql(self, compiler, connection):  # noqa: ANN001, ANN201 (Django's signature)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


def _like_pattern(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"

"""Story search queries: the newest visible stories matching every word, fast at 10^6 entries.

The match set and the date order come from different indexes: FTS5 and GIN
return matching story ids, the reader wants the newest first. Sorting every
match costs hundreds of milliseconds for a word in most stories, and the plan
the databases pick for the opposite case (walk the stories newest first, test
each) crawls through the whole table for a rare word. Neither planner can
estimate an FTS5 match or a prefix query, so the plan is chosen here:

1. A source filter whose source has at most ``SMALL_SOURCE_ENTRIES`` entries:
   the source's stories are the candidates; each is tested for the words and
   the survivors are sorted.
2. Otherwise walk the newest stories under the filters (through the place's or
   the category's listing index, or the date index, like the reader's pages)
   and test each: for a common word most pass and the walk stops after a few
   dozen. The walk goes no further than the ``NEWEST_WINDOW``-th story, so a
   rare word costs a bounded walk before step 3.
3. The matches are the candidates: each is fetched by id and the ones that pass
   the filters are sorted; few, since the word was rare in the window.

Every step applies every filter and returns only a complete answer, so all
give the same result; they differ only in what they read.

How a story is tested differs by database. FTS5 merges a prefix term's lists
on every lookup (20 ms for a common prefix), so SQLite reads the match set once
per statement as an uncorrelated ``IN``, cut to the id range of the stories the
walk may test. PostgreSQL tests a story through ``story_search``'s primary key,
about as cheap as reading the story itself.

Queries are plain words: every word must match (as a prefix of a stemmed
word). No FTS operator syntax reaches the database: words are reduced to
``[a-z0-9]+`` before they are quoted, so no user input can make a query fail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    any_,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    tuple_,
)
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from feedhub.db import session_is_sqlite
from feedhub.models import Entry, Story, StoryPlace
from feedhub.stories.stemming import stem
from feedhub.stories.text import fold

MAX_QUERY_TERMS = 12
# a source with at most this many entries: its stories are tested and sorted in full
SMALL_SOURCE_ENTRIES = 10_000
# a walk over the newest stories tests at most this many before giving up
NEWEST_WINDOW = 2_000

_QUERY_WORD = re.compile(r"[a-z0-9]+")
_fts = table("story_fts", column("rowid"), column("body"))
_pg = table("story_search", column("story_id"), column("document"))


def query_words(query: str) -> list[str]:
    """The user's words, folded and reduced to letters and digits, at most a dozen."""
    seen: list[str] = []
    for word in _QUERY_WORD.findall(fold(query)):
        if word not in seen:
            seen.append(word)
    return seen[:MAX_QUERY_TERMS]


def highlight_terms(query: str) -> list[str]:
    """Words the reader should mark: the query words and their stems (folded, lower-case)."""
    terms: list[str] = []
    for word in query_words(query):
        for term in (word, stem(word)):
            if len(term) >= 2 and term not in terms:
                terms.append(term)
    return terms


def fts5_expression(words: Sequence[str]) -> str:
    """The FTS5 MATCH string: every stemmed word, as a prefix when it has 3+ letters."""
    # every piece is [a-z0-9]+, so the quoting below cannot be broken out of
    parts = []
    for word in words:
        stemmed = stem(word)
        parts.append(f'"{stemmed}"*' if len(stemmed) >= 3 else f'"{stemmed}"')
    return " AND ".join(parts)


def pg_tsquery(words: Sequence[str]) -> ColumnElement[Any]:
    """The tsquery: per word, its stem as a prefix (simple) or its German or English stem."""
    simple: ColumnElement[str] = literal_column("'simple'::regconfig")
    german: ColumnElement[str] = literal_column("'german'::regconfig")
    english: ColumnElement[str] = literal_column("'english'::regconfig")
    query: ColumnElement[Any] | None = None
    for word in words:
        stemmed = stem(word)
        prefix = f"{stemmed}:*" if len(stemmed) >= 3 else stemmed
        term = (
            func.to_tsquery(simple, prefix)
            .op("||")(func.plainto_tsquery(german, word))
            .op("||")(func.plainto_tsquery(english, word))
        )
        query = term if query is None else query.op("&&")(term)
    assert query is not None
    return query


@dataclass(frozen=True)
class SearchFilters:
    """What the reader narrowed the search to; *before* is the previous page's last key."""

    category_id: int | None = None
    place_id: int | None = None
    source_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[datetime, int] | None = None


def _naive(value: datetime) -> datetime:
    """Naive UTC, like the columns, so a row-value comparison can use an index."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class _Matcher:
    """The words as SQL for one dialect: the set of matching ids, or a test for one story."""

    def __init__(self, session: Session, words: Sequence[str]) -> None:
        self.sqlite = session_is_sqlite(session)
        if self.sqlite:
            self._fts5 = fts5_expression(words)
        else:
            self._tsquery = pg_tsquery(words)

    def ids(self, within: tuple[int, int] | None = None) -> Select[Any]:
        """Ids of the stories whose document matches (hidden ones included).

        *within* bounds the ids (inclusive), so SQLite keeps only that part of
        a large match set when it builds the set for an ``IN``.
        """
        if self.sqlite:
            stmt = select(_fts.c.rowid).where(literal_column("story_fts").op("MATCH")(self._fts5))
            if within is not None:
                stmt = stmt.where(_fts.c.rowid.between(*within))
            return stmt
        return select(_pg.c.story_id).where(_pg.c.document.op("@@")(self._tsquery))

    def test(
        self, story_id: QueryableAttribute[int], within: tuple[int, int] | None = None
    ) -> ColumnElement[bool]:
        """Whether the story *story_id* (one of the ids *within*) matches, for many stories.

        SQLite: an uncorrelated ``IN`` over the match set, built once per
        statement; the ``+`` keeps that set from driving the query. PostgreSQL:
        a scalar subquery through the primary key, which the planner cannot
        turn into a join that reads the whole match set.
        """
        if self.sqlite:
            return _unindexed(True, story_id).in_(self.ids(within))
        document = (
            select(_pg.c.document.op("@@")(self._tsquery))
            .where(_pg.c.story_id == story_id)
            .scalar_subquery()
        )
        return document.is_(True)


def _unindexed(
    sqlite: bool, attr: QueryableAttribute[Any] | ColumnElement[Any]
) -> ColumnElement[Any]:
    """*attr* as SQLite's ``+column``, which keeps the planner from driving the query by its index.

    Used where the candidates must drive: otherwise SQLite prefers walking the
    category or date index and testing every story it passes, or the reverse.
    """
    expr: ColumnElement[Any] = attr.expression
    if not sqlite:
        return expr
    return UnaryExpression(expr, operator=custom_op("+"), type_=expr.type)


def _story_conditions(
    session: Session, filters: SearchFilters, *, indexed: bool
) -> list[ColumnElement[bool]]:
    """The filters on the stories row itself (hidden, category, dates, page key)."""
    plain = indexed or not session_is_sqlite(session)

    def col(attr: QueryableAttribute[Any]) -> ColumnElement[Any]:
        return attr.expression if plain else _unindexed(True, attr)

    conditions: list[ColumnElement[bool]] = [col(Story.hidden).is_(False)]
    if filters.category_id is not None:
        conditions.append(col(Story.category_id) == filters.category_id)
    if filters.since is not None:
        conditions.append(col(Story.sort_at) >= _naive(filters.since))
    if filters.until is not None:
        conditions.append(col(Story.sort_at) < _naive(filters.until))
    if filters.before is not None:
        at, story_id = filters.before
        conditions.append(tuple_(col(Story.sort_at), col(Story.id)) < tuple_(_naive(at), story_id))
    return conditions


def _place_test(place_id: int) -> ColumnElement[bool]:
    return exists().where(StoryPlace.story_id == Story.id, StoryPlace.place_id == place_id)


def _source_test(sqlite: bool, source_id: int) -> ColumnElement[bool]:
    """The story has an entry from the source: the source's stories, gathered once."""
    reported = select(Entry.story_id).where(Entry.source_id == source_id)
    return _unindexed(sqlite, Story.id).in_(reported)


def _rank_candidates(
    session: Session,
    candidates: Select[Any],
    filters: SearchFilters,
    limit: int,
    test: ColumnElement[bool] | None,
) -> list[int]:
    """Newest *limit* of the *candidates* that pass every filter (and *test*), by sorting them.

    The candidates drive: each one is fetched by primary key, never the other
    way round, so the cost follows their number. PostgreSQL gets them as an
    array built once, whose size the planner cannot misjudge into a walk.
    """
    sqlite = session_is_sqlite(session)
    if sqlite:
        driver: ColumnElement[bool] = Story.id.in_(candidates)
    else:
        driver = Story.id == any_(func.array(candidates.scalar_subquery()))
    conditions = [driver, *_story_conditions(session, filters, indexed=False)]
    if filters.place_id is not None:
        conditions.append(_place_test(filters.place_id))
    if filters.source_id is not None:
        conditions.append(_source_test(sqlite, filters.source_id))
    if test is not None:
        conditions.append(test)
    order = (_unindexed(sqlite, Story.sort_at).desc(), _unindexed(sqlite, Story.id).desc())
    stmt = select(Story.id).where(*conditions).order_by(*order).limit(limit)
    return list(session.scalars(stmt))


def _at_most(session: Session, rows: Select[Any], cap: int) -> bool:
    """Whether *rows* has at most *cap* rows, counting no further than one past it."""
    counted = select(func.count()).select_from(rows.limit(cap + 1).subquery())
    return (session.scalar(counted) or 0) <= cap


def _walk_newest(
    session: Session, matcher: _Matcher, filters: SearchFilters, limit: int
) -> list[int] | None:
    """Walk the newest stories that pass the filters, testing each; None if the window ran out.

    The walk follows the place's or the category's listing index, or the date
    index, like the reader's own pages. It is bounded by the key of the
    ``NEWEST_WINDOW``-th story under the same filters, found first by a short
    index walk: if fewer than *limit* matches lie above that key, the result is
    inconclusive and the caller sorts the match set instead.
    """
    conditions = _story_conditions(session, filters, indexed=True)
    if filters.place_id is not None:
        # the place listing index carries the story's sort key: walk it, like the place page
        key = tuple_(StoryPlace.sort_at, StoryPlace.story_id)
        base = (
            select(StoryPlace.sort_at, StoryPlace.story_id)
            .join(Story, Story.id == StoryPlace.story_id)
            .where(StoryPlace.place_id == filters.place_id, *conditions)
        )
        if filters.since is not None:
            base = base.where(StoryPlace.sort_at >= _naive(filters.since))
        if filters.until is not None:
            base = base.where(StoryPlace.sort_at < _naive(filters.until))
        if filters.before is not None:
            at, story_id = filters.before
            base = base.where(key < tuple_(_naive(at), story_id))
        order = (StoryPlace.sort_at.desc(), StoryPlace.story_id.desc())
    else:
        key = tuple_(Story.sort_at, Story.id)
        base = select(Story.sort_at, Story.id).where(*conditions)
        order = (Story.sort_at.desc(), Story.id.desc())
    edge = session.execute(base.order_by(*order).offset(NEWEST_WINDOW - 1).limit(1)).first()
    within = None
    if matcher.sqlite:
        # SQLite builds the match set it tests against: only the window's id range of
        # it (new stories have high ids, so a common word's 10^5 matches shrink to ~10^3)
        ids = list(base.order_by(*order).limit(NEWEST_WINDOW).subquery().c)[1]
        within = session.execute(select(func.min(ids), func.max(ids))).one()
        if within[0] is None:
            return []  # no story passes the filters
    walk = base.where(matcher.test(Story.id, within))
    if filters.source_id is not None:
        walk = walk.where(_source_test(session_is_sqlite(session), filters.source_id))
    if edge is not None:
        walk = walk.where(key >= tuple_(_naive(edge[0]), edge[1]))
    found = [row[1] for row in session.execute(walk.order_by(*order).limit(limit))]
    if len(found) < limit and edge is not None:
        return None
    return found


def search_stories(
    session: Session,
    query: str,
    *,
    category_id: int | None = None,
    place_id: int | None = None,
    source_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    before: tuple[datetime, int] | None = None,
) -> list[int]:
    """Ids of visible stories matching every word of *query*, newest first.

    *before* is the (sort_at, id) of the last story on the previous page.
    """
    words = query_words(query)
    if not words or limit <= 0:
        return []
    filters = SearchFilters(category_id, place_id, source_id, since, until, before)
    matcher = _Matcher(session, words)
    if source_id is not None:
        reported = select(Entry.story_id).where(Entry.source_id == source_id)
        if _at_most(session, reported, SMALL_SOURCE_ENTRIES):
            narrowed = replace(filters, source_id=None)  # the candidates are the source's
            return _rank_candidates(session, reported, narrowed, limit, matcher.test(Story.id))
    found = _walk_newest(session, matcher, filters, limit)
    if found is not None:
        return found
    return _rank_candidates(session, matcher.ids(), filters, limit, None)

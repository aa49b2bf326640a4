"""Full-text search over stories: SQLite FTS5 or PostgreSQL tsvector.

The index holds one document per story (title, lead, the representative's
content, source names, places) and is rewritten inside the same transaction
that changes the story, so it is never out of date and needs no sync job.

Queries are plain words: every word must match (as a prefix of a stemmed
word). No FTS operator syntax reaches the database: words are reduced to
``[a-z0-9]+`` before they are quoted, so no user input can make a query fail.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from feedhub.models import Entry, Story, StoryPlace
from feedhub.stories.stemming import stem, stem_text
from feedhub.stories.text import fold

MAX_DOCUMENT_CHARS = 20_000
MAX_QUERY_TERMS = 12
_TAG = re.compile(r"<[^>]*>")
_QUERY_WORD = re.compile(r"[a-z0-9]+")

_fts = table("story_fts", column("rowid"), column("body"))
_pg = table("story_search", column("story_id"), column("document"))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def html_to_text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", markup))).strip()


def document_text(
    *,
    title: str,
    lead: str,
    content_html: str,
    sources: Iterable[str],
    places: Iterable[str],
    other_titles: Iterable[str] = (),
) -> str:
    """The plain text a story is found by (other copies' headlines count too)."""
    parts = [
        title,
        lead,
        " ".join(other_titles),
        html_to_text(content_html),
        " ".join(sources),
        " ".join(places),
    ]
    return "\n".join(p for p in parts if p)[:MAX_DOCUMENT_CHARS]


def index_story(session: Session, story_id: int, document: str) -> None:
    """Replace the story's search document (within the caller's transaction)."""
    index_documents(session, [(story_id, document, stem_text(document))])


_FTS_INSERT = text("INSERT INTO story_fts (rowid, body) VALUES (:id, :stemmed)")
_PG_UPSERT = text(
    "INSERT INTO story_search (story_id, document) VALUES (:id, "
    "to_tsvector('simple'::regconfig, :stemmed) "
    "|| to_tsvector('german'::regconfig, :raw) "
    "|| to_tsvector('english'::regconfig, :raw)) "
    "ON CONFLICT (story_id) DO UPDATE SET document = EXCLUDED.document"
)


def index_documents(session: Session, documents: Sequence[tuple[int, str, str]]) -> None:
    """Replace the search documents of several stories in a few statements.

    Each item is (story id, document, ``stem_text(document)``); the caller may
    have stemmed the document's pieces elsewhere (the parse workers do).
    """
    if not documents:
        return
    if _is_sqlite(session):
        session.execute(delete(_fts).where(_fts.c.rowid.in_([d[0] for d in documents])))
        session.execute(_FTS_INSERT, [{"id": d[0], "stemmed": d[2]} for d in documents])
        return
    session.execute(_PG_UPSERT, [{"id": d[0], "stemmed": d[2], "raw": d[1]} for d in documents])


def unindex_stories(session: Session, story_ids: Iterable[int]) -> None:
    ids = list(story_ids)
    if not ids:
        return
    if _is_sqlite(session):
        session.execute(delete(_fts).where(_fts.c.rowid.in_(ids)))
    else:
        session.execute(delete(_pg).where(_pg.c.story_id.in_(ids)))


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


def _fts5_expression(words: list[str]) -> str:
    # every piece is [a-z0-9]+, so the quoting below cannot be broken out of
    parts = []
    for word in words:
        stemmed = stem(word)
        parts.append(f'"{stemmed}"*' if len(stemmed) >= 3 else f'"{stemmed}"')
    return " AND ".join(parts)


def _pg_condition(words: list[str]) -> ColumnElement[bool]:
    simple: ColumnElement[str] = literal_column("'simple'::regconfig")
    german: ColumnElement[str] = literal_column("'german'::regconfig")
    english: ColumnElement[str] = literal_column("'english'::regconfig")
    query: ColumnElement[object] | None = None
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
    return _pg.c.document.op("@@")(query)


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
    stmt = select(Story.id)
    if _is_sqlite(session):
        stmt = stmt.join(_fts, _fts.c.rowid == Story.id).where(
            literal_column("story_fts").op("MATCH")(_fts5_expression(words))
        )
    else:
        stmt = stmt.join(_pg, _pg.c.story_id == Story.id).where(_pg_condition(words))
    conditions: list[ColumnElement[bool]] = [Story.hidden.is_(False)]
    if category_id is not None:
        conditions.append(Story.category_id == category_id)
    if place_id is not None:
        conditions.append(
            exists().where(StoryPlace.story_id == Story.id, StoryPlace.place_id == place_id)
        )
    if source_id is not None:
        conditions.append(exists().where(Entry.story_id == Story.id, Entry.source_id == source_id))
    if since is not None:
        conditions.append(Story.sort_at >= since)
    if until is not None:
        conditions.append(Story.sort_at < until)
    if before is not None:
        at, story_id = before
        conditions.append(or_(Story.sort_at < at, and_(Story.sort_at == at, Story.id < story_id)))
    stmt = stmt.where(*conditions).order_by(Story.sort_at.desc(), Story.id.desc()).limit(limit)
    return list(session.scalars(stmt))

"""Full-text search over stories: SQLite FTS5 or PostgreSQL tsvector.

The index holds one document per story (title, lead, the representative's
content, source names, places) and is rewritten inside the same transaction
that changes the story, so it is never out of date and needs no sync job.

The queries live in ``feedhub.stories.search_query`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, column, delete, table, text
from sqlalchemy.orm import Session

from feedhub.db import core, session_is_sqlite
from feedhub.ingest.sanitize import html_to_text
from feedhub.stories.search_query import highlight_terms, query_words, search_stories
from feedhub.stories.stemming import stem_text

__all__ = [
    "document_text",
    "highlight_terms",
    "index_documents",
    "index_story",
    "query_words",
    "search_stories",
    "unindex_stories",
]

MAX_DOCUMENT_CHARS = 20_000

_fts = table("story_fts", column("rowid"), column("body"))
_pg = table("story_search", column("story_id"), column("document"))


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


_FTS_DELETE = delete(_fts).where(_fts.c.rowid.in_(bindparam("ids", expanding=True)))
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
    connection = core(session)
    if session_is_sqlite(session):
        connection.execute(_FTS_DELETE, {"ids": [d[0] for d in documents]})
        connection.execute(_FTS_INSERT, [{"id": d[0], "stemmed": d[2]} for d in documents])
        return
    connection.execute(_PG_UPSERT, [{"id": d[0], "stemmed": d[2], "raw": d[1]} for d in documents])


def unindex_stories(session: Session, story_ids: Iterable[int]) -> None:
    ids = list(story_ids)
    if not ids:
        return
    if session_is_sqlite(session):
        session.execute(delete(_fts).where(_fts.c.rowid.in_(ids)))
    else:
        session.execute(delete(_pg).where(_pg.c.story_id.in_(ids)))

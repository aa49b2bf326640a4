"""Full-text search over stories: SQLite FTS5 or PostgreSQL tsvector.

The index holds one document per story (title, lead, the representative's
content, source names, places) and is rewritten inside the same transaction
that changes the story, so it is never out of date and needs no sync job.

The queries live in ``feedhub.stories.search_query`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, column, delete, table, text
from sqlalchemy.orm import Session

from feedhub import sqlite_exec
from feedhub.db import core, session_is_sqlite
from feedhub.ingest.sanitize import html_to_text
from feedhub.stories.search_query import highlight_terms, query_words, search_stories
from feedhub.stories.stemming import index_text

__all__ = [
    "SEARCH_QUEUE",
    "DeferredSearchWrites",
    "document_text",
    "highlight_terms",
    "index_documents",
    "index_story",
    "query_words",
    "search_stories",
    "unindex_stories",
]

MAX_DOCUMENT_CHARS = 20_000
# session.info key of the DeferredSearchWrites that index changes go to instead
SEARCH_QUEUE = "feedhub.search_queue"
_WRITE_CHUNK = 500

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
    index_documents(session, [(story_id, document, index_text(document))])


_FTS_DELETE = delete(_fts).where(_fts.c.rowid.in_(bindparam("ids", expanding=True)))
_FTS_INSERT = "INSERT INTO story_fts (rowid, body) VALUES (?, ?)"
_PG_UPSERT = text(
    "INSERT INTO story_search (story_id, document) VALUES (:id, "
    "to_tsvector('simple'::regconfig, :stemmed) "
    "|| to_tsvector('german'::regconfig, :raw) "
    "|| to_tsvector('english'::regconfig, :raw)) "
    "ON CONFLICT (story_id) DO UPDATE SET document = EXCLUDED.document"
)


def index_documents(
    session: Session, documents: Sequence[tuple[int, str, str]], *, new: bool = False
) -> None:
    """Replace the search documents of several stories in a few statements.

    Each item is (story id, document, ``index_text(document)``); the caller may
    have stemmed the document's pieces elsewhere (the parse workers do). *new*
    says the stories were created in this transaction: SQLite then has no
    document of theirs to delete first (a deleted story's went with it, by
    trigger, even when its id is used again).
    """
    if not documents:
        return
    if session_is_sqlite(session):
        _change_fts(session, {d[0]: d[2] for d in documents}, new=new)
        return
    core(session).execute(
        _PG_UPSERT, [{"id": d[0], "stemmed": d[2], "raw": d[1]} for d in documents]
    )


def unindex_stories(session: Session, story_ids: Iterable[int]) -> None:
    ids = list(story_ids)
    if not ids:
        return
    if session_is_sqlite(session):
        _change_fts(session, dict.fromkeys(ids), new=False)
    else:
        session.execute(delete(_pg).where(_pg.c.story_id.in_(ids)))


@dataclass
class DeferredSearchWrites:
    """SQLite search-index changes held back to be written in one go.

    FTS5 writes the terms it holds in memory as a new index segment whenever a
    savepoint is released, and merges segments as they pile up. The SQLite
    poller stores many source polls in one transaction (see
    ``feedhub.ingest.store_group``); when each poll had its own savepoint,
    indexing paid a segment and its merging per poll, about a tenth of the
    storing thread's time. The poller puts one of these on each group's session
    (``SEARCH_QUEUE``) and writes it just before the group's COMMIT, in the
    same transaction; a group rolled back drops it with its session.
    """

    # story id -> stemmed document, or None to remove the story from the index
    documents: dict[int, str | None] = field(default_factory=dict)
    # stories created in the transaction: none of them has a document to delete
    new: set[int] = field(default_factory=set)

    def write(self, session: Session) -> None:
        documents, self.documents = self.documents, {}
        new, self.new = self.new, set()
        _write_fts(session, documents, new)


def _change_fts(session: Session, documents: dict[int, str | None], *, new: bool) -> None:
    """Set (None: remove) FTS5 documents, or queue them where the poller defers them."""
    queue: DeferredSearchWrites | None = session.info.get(SEARCH_QUEUE)
    if queue is not None:
        queue.documents.update(documents)
        if new:
            queue.new.update(documents)
    else:
        _write_fts(session, documents, set(documents) if new else set())


def _write_fts(session: Session, documents: dict[int, str | None], new: set[int]) -> None:
    """Set (or, for None, remove) each story's FTS5 document; those of *new* are only
    inserted."""
    if not documents:
        return
    ids = [sid for sid in documents if sid not in new]
    for start in range(0, len(ids), _WRITE_CHUNK):
        sqlite_exec.execute(session, _FTS_DELETE, {"ids": ids[start : start + _WRITE_CHUNK]})
    rows = [(sid, body) for sid, body in documents.items() if body is not None]
    sqlite_exec.driver_executemany(session, _FTS_INSERT, rows)

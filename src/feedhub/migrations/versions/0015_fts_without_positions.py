"""Rebuild story_fts without token positions or column sizes (SQLite)

Search matches each stemmed word, or its prefix, anywhere in a story's
document and sorts by time: no phrase, NEAR or column queries, no bm25. FTS5's
default index stores every token's position and a size row per document for
exactly those; a cold poll of 500 feeds wrote them for 20,000 documents and
merged them again as segments piled up. ``detail=none`` keeps only which
documents hold a term and ``columnsize=0`` drops the size rows. PostgreSQL's
tsvector is unchanged.

Revision ID: 0015_fts_without_positions
Revises: 0014_story_representative_fk
"""

from alembic import op

revision = "0015_fts_without_positions"
down_revision = "0014_story_representative_fk"
branch_labels = None
depends_on = None

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"
_TRIGGER = (
    "CREATE TRIGGER story_fts_cleanup AFTER DELETE ON stories BEGIN "
    "DELETE FROM story_fts WHERE rowid = old.id; END"
)


def _rebuild(options: str) -> None:
    """story_fts again with *options*, its documents copied (the rowids are story ids)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    # the trigger names story_fts: renaming a table under it would fail the schema check
    op.execute("DROP TRIGGER IF EXISTS story_fts_cleanup")
    op.execute(f"CREATE VIRTUAL TABLE story_fts_rebuilt USING fts5(body, {_TOKENIZE}{options})")
    op.execute("INSERT INTO story_fts_rebuilt (rowid, body) SELECT rowid, body FROM story_fts")
    op.execute("DROP TABLE story_fts")
    op.execute("ALTER TABLE story_fts_rebuilt RENAME TO story_fts")
    op.execute(_TRIGGER)


def upgrade() -> None:
    _rebuild(", detail = none, columnsize = 0")


def downgrade() -> None:
    _rebuild("")

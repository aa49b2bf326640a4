"""stories: full-text search index

SQLite gets an FTS5 table over pre-stemmed text (rowid = story id) and a
trigger that drops a story's row when the story goes; PostgreSQL gets a
tsvector table with a GIN index (simple + german + english) that cascades.

Revision ID: 0002_stories
Revises: 0001
"""

from alembic import op

revision = "0002_stories"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE story_fts USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER story_fts_cleanup AFTER DELETE ON stories BEGIN "
            "DELETE FROM story_fts WHERE rowid = old.id; END"
        )
    else:
        op.execute(
            "CREATE TABLE story_search ("
            "story_id INTEGER PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_story_search_document ON story_search USING GIN (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS story_fts_cleanup")
        op.execute("DROP TABLE IF EXISTS story_fts")
    else:
        op.execute("DROP TABLE IF EXISTS story_search")

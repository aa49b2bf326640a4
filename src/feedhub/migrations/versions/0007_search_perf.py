"""search performance: the stories a source reported, from an index alone

A search with a source filter starts from that source's stories (or tests a
story against them). ``ix_entries_source_seen_id`` finds the source's entries
but not their story ids, so every entry row was read: one random page per
entry. With (source_id, story_id) the set comes from the index.

Revision ID: 0007_search_perf
Revises: 0002_stories
"""

from alembic import op

revision = "0007_search_perf"
down_revision = "0002_stories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index("ix_entries_source_story", ["source_id", "story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index("ix_entries_source_story")

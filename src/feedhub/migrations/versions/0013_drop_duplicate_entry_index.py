"""Drop ix_entries_source_seen: ix_entries_source_seen_id serves every query it did

An index on (source_id, first_seen_at) holds, on SQLite, exactly the rows of one
on (source_id, first_seen_at, id): every SQLite index ends in the rowid, which
``entries.id`` is. On PostgreSQL the longer index serves any query the shorter
one can. Each stored entry updated both.

Revision ID: 0013_drop_duplicate_entry_index
Revises: 0012_band_writes
"""

from alembic import op

revision = "0013_drop_duplicate_entry_index"
down_revision = "0012_band_writes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_entries_source_seen", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_source_seen", "entries", ["source_id", "first_seen_at"])

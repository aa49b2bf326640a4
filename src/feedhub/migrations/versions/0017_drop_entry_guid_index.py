"""Drop ix_entries_guid: no query looks entries up by guid

Entries are found by their identity (``guid:…``, ``url:…``, unique per
source), by canonical URL and by story; the (source_id, guid) index from the
initial schema served none of them, and every stored entry updated it.

Revision ID: 0017_drop_entry_guid_index
Revises: 0016_band_rows_without_entry_key
"""

from alembic import op

revision = "0017_drop_entry_guid_index"
down_revision = "0016_band_rows_without_entry_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_entries_guid", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_guid", "entries", ["source_id", "guid"])

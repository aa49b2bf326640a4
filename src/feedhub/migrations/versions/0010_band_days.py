"""LSH bands clustered by week

Candidate lookups probed ``(band_key, at)``: random places all over the index,
so with a million entries stored every probe and every insert missed the page
cache and a poll cost nearly twice what it cost with ten thousand. A band row
now carries the week of its time and the index leads with it; lookups and
inserts stay within the weeks around the entry, the hot end of the index.

Plain ALTER/UPDATE/CREATE INDEX (no batch table copy): the table may hold tens
of millions of rows.

Revision ID: 0010_band_weeks
Revises: 0009_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_band_weeks"
down_revision = "0009_merge"
branch_labels = None
depends_on = None

# the same arithmetic as feedhub.stories.bulk.band_week: whole weeks since the epoch
_WEEK_SQL = {
    "sqlite": "MAX(0, CAST(strftime('%s', at) AS INTEGER) / 604800)",
    "postgresql": "GREATEST(0, FLOOR(EXTRACT(EPOCH FROM at) / 604800))::integer",
}


def upgrade() -> None:
    op.add_column("lsh_bands", sa.Column("week", sa.Integer(), server_default="0", nullable=False))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE lsh_bands SET week = {_WEEK_SQL[dialect]}")
    op.drop_index("ix_lsh_bands_key_at_entry", table_name="lsh_bands")
    op.create_index(
        "ix_lsh_bands_week_key", "lsh_bands", ["week", "band_key", "at", "entry_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lsh_bands_week_key", table_name="lsh_bands")
    op.create_index(
        "ix_lsh_bands_key_at_entry", "lsh_bands", ["band_key", "at", "entry_id"], unique=False
    )
    with op.batch_alter_table("lsh_bands", schema=None) as batch_op:
        batch_op.drop_column("week")

"""LSH bands clustered by day

Candidate lookups probed ``(band_key, at)``: random places all over the index.
With a million entries stored, every probe missed the page cache and every
checkpoint wrote thousands of scattered pages back into a file of gigabytes,
so a poll cost nearly twice what it cost with ten thousand entries. A band row
now carries the day of its time and the index leads with it; lookups and
inserts stay within the days around the entry, the hot end of the index.

Plain ALTER/UPDATE/CREATE INDEX (no batch table copy): the table may hold tens
of millions of rows.

Revision ID: 0010_band_days
Revises: 0009_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_band_days"
down_revision = "0009_merge"
branch_labels = None
depends_on = None

# the same arithmetic as feedhub.stories.bulk.band_day: whole days since the epoch
_DAY_SQL = {
    # (whole seconds: SQLite would round .9995 s up into the next second, and day)
    "sqlite": "MAX(0, CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) / 86400)",
    "postgresql": "GREATEST(0, FLOOR(EXTRACT(EPOCH FROM at) / 86400))::integer",
}


def upgrade() -> None:
    op.add_column("lsh_bands", sa.Column("day", sa.Integer(), server_default="0", nullable=False))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE lsh_bands SET day = {_DAY_SQL[dialect]}")
    op.drop_index("ix_lsh_bands_key_at_entry", table_name="lsh_bands")
    op.create_index(
        "ix_lsh_bands_day_key", "lsh_bands", ["day", "band_key", "at", "entry_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lsh_bands_day_key", table_name="lsh_bands")
    op.create_index(
        "ix_lsh_bands_key_at_entry", "lsh_bands", ["band_key", "at", "entry_id"], unique=False
    )
    with op.batch_alter_table("lsh_bands", schema=None) as batch_op:
        batch_op.drop_column("day")

"""ingest performance: entries.signature, covering LSH band index

The near-duplicate confirmation features (shingles, headline words, number-guard
tokens) are stored on the entry row, so clustering never fingerprints a stored
candidate from its text again. Rows stored before this revision keep NULL and
are fingerprinted from their text when they come up as candidates.

The LSH band index gains entry_id, so counting a batch's band hits reads the
index alone instead of one table row per matching band.

Revision ID: 0008_ingest_perf
Revises: 0002_stories
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_ingest_perf"
down_revision = "0002_stories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("lsh_bands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lsh_bands_key_at_entry", ["band_key", "at", "entry_id"], unique=False
        )
        batch_op.drop_index("ix_lsh_bands_key_at")


def downgrade() -> None:
    with op.batch_alter_table("lsh_bands", schema=None) as batch_op:
        batch_op.create_index("ix_lsh_bands_key_at", ["band_key", "at"], unique=False)
        batch_op.drop_index("ix_lsh_bands_key_at_entry")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("signature")

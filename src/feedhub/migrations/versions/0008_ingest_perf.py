"""ingest performance: entries.signature

The near-duplicate confirmation features (shingles, headline words, number-guard
tokens) are stored on the entry row, so clustering never fingerprints a stored
candidate from its text again. Rows stored before this revision keep NULL and
are fingerprinted from their text when they come up as candidates.

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


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("signature")

"""The token that tells the SQLite poller's band-key bitmap that others wrote band rows

Revision ID: 0012_band_writes
Revises: 0011_band_rows_clustered
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0012_band_writes"
down_revision = "0011_band_rows_clustered"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "band_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # random like every later token: a bitmap is never complete for a value by chance
    op.bulk_insert(table, [{"id": 1, "token": secrets.randbits(62) + 1}])


def downgrade() -> None:
    op.drop_table("band_writes")

"""reader: login rate-limit table, source-page keyset index

Revision ID: 0004_reader
Revises: 0001
Create Date: 2026-11-27 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import feedhub.models

revision = "0004_reader"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("at", feedhub.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_key_at", ["ip", "username", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_at", ["at"], unique=False)
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entries_source_seen_id", ["source_id", "first_seen_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index("ix_entries_source_seen_id")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_at")
        batch_op.drop_index("ix_login_attempts_key_at")
    op.drop_table("login_attempts")

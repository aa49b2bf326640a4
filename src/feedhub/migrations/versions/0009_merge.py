"""Merge the branches that stories, reader, search and ingest work added in parallel.

Revision ID: 0009_merge
Revises: 0004_reader, 0007_search_perf, 0008_ingest_perf
Create Date: 2026-11-27 16:12:12.079572
"""

revision = "0009_merge"
down_revision = ("0004_reader", "0007_search_perf", "0008_ingest_perf")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

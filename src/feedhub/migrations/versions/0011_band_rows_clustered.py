"""LSH band rows clustered by their lookup key, times as integers

A band row lived twice: in the table (by rowid) and in the index a probe
reads, ``(day, band_key, at, entry_id)``, with ``at`` as a 26-character
timestamp in both. A poll of 40 entries inserted about 840 rows at random
places of the index; nearly each one dirtied its own index page, and the
COMMIT and the checkpoint wrote them all. Now the table is the index (WITHOUT ROWID on SQLite,
primary key ``(day, band_key, at, entry_id)`` on both databases) and ``at`` is
microseconds since the epoch: about half the pages, one B-tree less to write.

The table is rebuilt in key order (one pass; it may hold tens of millions of
rows).

Revision ID: 0011_band_rows_clustered
Revises: 0010_band_days
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_band_rows_clustered"
down_revision = "0010_band_days"
branch_labels = None
depends_on = None

# SQLite stores times as 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC): whole
# seconds from strftime, microseconds from the text, no floating point
_MICROS_SQL = {
    "sqlite": (
        "CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000"
        " + CAST(substr(at || '.000000', 21, 6) AS INTEGER)"
    ),
    # EXTRACT returns numeric (exact) since PostgreSQL 14
    "postgresql": "CAST(EXTRACT(EPOCH FROM at) * 1000000 AS bigint)",
}
_TIME_SQL = {
    "sqlite": (
        "strftime('%Y-%m-%d %H:%M:%S', at / 1000000 - (at % 1000000 < 0), 'unixepoch')"
        " || printf('.%06d', (at % 1000000 + 1000000) % 1000000)"
    ),
    "postgresql": "TIMESTAMP '1970-01-01' + at * INTERVAL '1 microsecond'",
}


def _new_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_lsh_bands_entry_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "band_key", "at", "entry_id", name="pk_lsh_bands"),
        sqlite_with_rowid=False,
    )


def rows_in_key_order(dialect: str) -> str:
    """The old rows, converted, in the new key's order.

    That is the old index's order: a covering scan, no sort. Duplicates are
    dropped by the INSERT rather than by DISTINCT (a temporary B-tree of the
    whole table, in memory with temp_store=MEMORY). Rows of deleted entries stay
    behind, checked row by row: an IN list made the planner drive the scan by
    entry and sort everything after.
    """
    return (
        f"SELECT day, band_key, {_MICROS_SQL[dialect]}, entry_id FROM lsh_bands "
        "WHERE EXISTS (SELECT 1 FROM entries WHERE entries.id = lsh_bands.entry_id) "
        "ORDER BY day, band_key, at, entry_id"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _new_table("lsh_bands_new")
    op.execute(
        "INSERT INTO lsh_bands_new (day, band_key, at, entry_id) "
        f"{rows_in_key_order(dialect)} ON CONFLICT DO NOTHING"
    )
    op.drop_table("lsh_bands")
    op.rename_table("lsh_bands_new", "lsh_bands")
    op.create_index("ix_lsh_bands_entry", "lsh_bands", ["entry_id"], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "lsh_bands_old",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO lsh_bands_old (band_key, entry_id, at, day) "
        f"SELECT band_key, entry_id, {_TIME_SQL[dialect]}, day FROM lsh_bands"
    )
    op.drop_table("lsh_bands")
    op.rename_table("lsh_bands_old", "lsh_bands")
    if dialect == "postgresql":  # a renamed table keeps its constraints' and sequence's names
        op.execute("ALTER TABLE lsh_bands RENAME CONSTRAINT lsh_bands_old_pkey TO lsh_bands_pkey")
        op.execute(
            "ALTER TABLE lsh_bands RENAME CONSTRAINT lsh_bands_old_entry_id_fkey "
            "TO lsh_bands_entry_id_fkey"
        )
        op.execute("ALTER SEQUENCE lsh_bands_old_id_seq RENAME TO lsh_bands_id_seq")
    op.create_index("ix_lsh_bands_entry", "lsh_bands", ["entry_id"], unique=False)
    op.create_index(
        "ix_lsh_bands_day_key", "lsh_bands", ["day", "band_key", "at", "entry_id"], unique=False
    )

"""LSH band rows without a foreign key to their entry; entries keep their band keys

On SQLite the index on ``entry_id`` of a WITHOUT ROWID table holds the whole
primary key again: every band row was stored twice, and a cold poll's band
inserts cost a third more and wrote twice the pages at each COMMIT. The foreign
key needs that index (each deleted entry would scan the table for its rows).
Band rows only point to candidates, each loaded and confirmed from the entries
table. An entry now keeps its band keys (``entries.band_keys``), so that a
changed or deleted entry's rows are deleted by primary key; rows of entries
stored before have none, and are found by their day, the key's first column.

The SQLite table is rebuilt in key order (SQLite cannot drop a foreign key).

Revision ID: 0016_band_rows_without_entry_key
Revises: 0014_story_representative_fk
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_band_rows_without_entry_key"
down_revision = "0014_story_representative_fk"
branch_labels = None
depends_on = None

_FK = "fk_lsh_bands_entry_id"
_INDEX = "ix_lsh_bands_entry"


def _sqlite_rebuild(*, with_entry_key: bool) -> None:
    keys: list[sa.schema.SchemaItem] = []
    if with_entry_key:
        keys.append(
            sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=_FK, ondelete="CASCADE")
        )
    op.create_table(
        "lsh_bands_new",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        *keys,
        sa.PrimaryKeyConstraint("day", "band_key", "at", "entry_id", name="pk_lsh_bands"),
        sqlite_with_rowid=False,
    )
    # rows of entries that are gone cannot come back under a foreign key
    kept = (
        " WHERE EXISTS (SELECT 1 FROM entries WHERE entries.id = lsh_bands.entry_id)"
        if with_entry_key
        else ""
    )
    op.execute(
        "INSERT INTO lsh_bands_new (day, band_key, at, entry_id) "
        f"SELECT day, band_key, at, entry_id FROM lsh_bands{kept} "
        "ORDER BY day, band_key, at, entry_id"
    )
    op.drop_table("lsh_bands")
    op.rename_table("lsh_bands_new", "lsh_bands")


def upgrade() -> None:
    op.add_column("entries", sa.Column("band_keys", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_entry_key=False)
        return
    op.drop_index(_INDEX, table_name="lsh_bands")
    op.drop_constraint(_FK, "lsh_bands", type_="foreignkey")


def downgrade() -> None:
    # SQLite 3.35 drops a column in place: no batch copy of entries, whose
    # DROP would run the foreign keys' ON DELETE actions
    op.drop_column("entries", "band_keys")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_entry_key=True)
    else:
        op.execute(
            "DELETE FROM lsh_bands WHERE NOT EXISTS "
            "(SELECT 1 FROM entries WHERE entries.id = lsh_bands.entry_id)"
        )
        op.create_foreign_key(_FK, "lsh_bands", "entries", ["entry_id"], ["id"], ondelete="CASCADE")
    op.create_index(_INDEX, "lsh_bands", ["entry_id"], unique=False)

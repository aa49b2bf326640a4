"""PostgreSQL: the foreign key from a story to its representative entry

Migration 0001 declared ``fk_story_rep`` with ``use_alter`` inside
``create_table``, which Alembic leaves to a later ALTER that never came: on
PostgreSQL the key was missing, so deleting a story's representative entry left
a dangling id instead of NULL. SQLite has had it all along (in CREATE TABLE).
Dangling ids are cleared first (the next aggregate picks a representative).

Revision ID: 0014_story_representative_fk
Revises: 0013_drop_duplicate_entry_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_story_representative_fk"
down_revision = "0013_drop_duplicate_entry_index"
branch_labels = None
depends_on = None


def _has_key(bind: sa.engine.Connection) -> bool:
    keys = sa.inspect(bind).get_foreign_keys("stories")
    return any(key.get("name") == "fk_story_rep" for key in keys)


def upgrade() -> None:
    # (on SQLite only a connection with foreign keys off could have left one)
    op.execute(
        "UPDATE stories SET representative_entry_id = NULL "
        "WHERE representative_entry_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM entries WHERE entries.id = stories.representative_entry_id)"
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" or _has_key(bind):
        return
    op.create_foreign_key(
        "fk_story_rep",
        "stories",
        "entries",
        ["representative_entry_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" and _has_key(bind):
        op.drop_constraint("fk_story_rep", "stories", type_="foreignkey")

"""users: disabled flag; sessions: last seen (idle timeout); wall keys and wall media grants

Revision ID: privilege_users_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "privilege_users_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.create_table(
        "wall_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("wall_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_wall_keys_wall_id", "wall_keys", ["wall_id"])
    op.create_table(
        "wall_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("wall_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_hash"], ["wall_keys.key_hash"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_wall_grants_key_hash", "wall_grants", ["key_hash"])


def downgrade() -> None:
    op.drop_index("ix_wall_grants_key_hash", table_name="wall_grants")
    op.drop_table("wall_grants")
    op.drop_index("ix_wall_keys_wall_id", table_name="wall_keys")
    op.drop_table("wall_keys")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("disabled")

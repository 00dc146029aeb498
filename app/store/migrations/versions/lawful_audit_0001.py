"""audit: the tamper-evident chain (prev_hash, row_hash)

Revision ID: lawful_audit_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lawful_audit_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the append-only triggers stay in place.
    op.add_column("audit", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit", sa.Column("row_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("audit", "row_hash")
    op.drop_column("audit", "prev_hash")

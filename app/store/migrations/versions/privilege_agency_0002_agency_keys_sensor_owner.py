"""agency key rotation grace, sensor gateway agency

Revision ID: privilege_agency_0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "privilege_agency_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        # A rotated key keeps working until previous_key_until (the grace), then never again.
        batch.add_column(sa.Column("api_key_previous_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("previous_key_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("sensors") as batch:
        # The gateway agency whose key may post this sensor's events (None: nobody may).
        batch.add_column(sa.Column("agency_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sensors") as batch:
        batch.drop_column("agency_id")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_column("previous_key_until")
        batch.drop_column("api_key_previous_hash")

"""an index for agency delivery health (pushed with every delivery.updated)

Revision ID: load_0002
Revises: load_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "load_0002"
down_revision = "load_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_delivery_agency_state", "deliveries", ["agency_id", "state", "delivered_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_agency_state", table_name="deliveries")

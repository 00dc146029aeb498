"""open incidents by source: a partial index the sensor path reads (which sensors have an open incident)

Revision ID: sensors_0001
Revises: load_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sensors_0001"
down_revision = "load_0002"
branch_labels = None
depends_on = None

_OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    # Only open incidents are in it (few, whatever the history's size); the queries name the same literal
    # condition, which is what lets SQLite use a partial index.
    op.create_index(
        "ix_incidents_open_source",
        "incidents",
        ["source"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_open_source", table_name="incidents")

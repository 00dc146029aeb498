"""lawful provision: a share's legal basis, requester, approval and pending extension

Revision ID: lawful_approval_0001
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lawful_approval_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_basis", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("requesting_agency_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("requesting_officer", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("case_number", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("approval", sa.String(length=16), nullable=False, server_default="auto")
        )
        batch_op.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("decision_reason", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("ext_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ext_reason", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("ext_by", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_shares_approval"), ["approval"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shares_approval"))
        for name in (
            "ext_by",
            "ext_reason",
            "ext_minutes",
            "decision_reason",
            "approved_at",
            "approved_by",
            "approval",
            "minutes",
            "case_number",
            "requesting_officer",
            "requesting_agency_id",
            "legal_basis",
        ):
            batch_op.drop_column(name)

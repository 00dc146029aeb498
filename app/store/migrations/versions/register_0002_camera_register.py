"""camera register fields, approximate and retired cameras, the holding list

Revision ID: register_0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "register_0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TEXT = (
    ("provider", 200),
    ("provider_code", 40),
    ("register_no", 100),
    ("road_address", 300),
    ("lot_address", 300),
    ("purpose_text", 200),
    ("installed", 40),
    ("pixels", 40),
    ("view", 300),
    ("phone", 60),
    ("data_date", 40),
)


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        for name, length in _TEXT:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approximate", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cameras_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_cameras_provider_code"), ["provider_code"], unique=False)
    op.create_table(
        "camera_pending",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("register", sa.JSON(), nullable=False),
        sa.Column("lat_text", sa.String(length=64), nullable=False),
        sa.Column("lon_text", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("camera_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_pending_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_camera_pending_provider_code"), ["provider_code"], unique=False)


def downgrade() -> None:
    op.drop_table("camera_pending")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_provider_code"))
        batch_op.drop_index(batch_op.f("ix_cameras_provider"))
        for name in ("retired_at", "approximate", "retention_days", *(n for n, _ in reversed(_TEXT))):
            batch_op.drop_column(name)

"""audit: signed checkpoints and archive segments; only archived audit rows may leave

Revision ID: lawful_audit_0002
Revises: lawful_audit_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "lawful_audit_0002"
down_revision = "lawful_audit_0001"
branch_labels = None
depends_on = None

_REFUSE = "audit is append-only (only rows kept in a signed archive segment may leave)"


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_archives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_prev", sa.String(length=64), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("up_to", sa.DateTime(), nullable=False),
        sa.Column("file", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("last_id", name="uq_audit_archive_last"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A DELETE is refused unless an archive segment (audit_archives) already holds the row.
        op.execute("DROP TRIGGER audit_no_delete")
        op.execute(
            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
            "WHEN OLD.id > (SELECT COALESCE(MAX(last_id), 0) FROM audit_archives) "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
        )
        for table in ("audit_checkpoints", "audit_archives"):
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND OLD.id <= (SELECT COALESCE(MAX(last_id), 0) FROM audit_archives) "
            f"THEN RETURN OLD; END IF; RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
        op.execute(
            "CREATE FUNCTION gt_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in ("audit_checkpoints", "audit_archives"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION gt_append_only()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_no_delete")
        op.execute(
            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
            "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$"
        )
    op.drop_table("audit_archives")
    op.drop_table("audit_checkpoints")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION gt_append_only()")

"""share tokens stored only as hashes; no token in clear in the outbox

Revision ID: privilege_agency_0003
Revises: privilege_agency_0002

``shares.token`` becomes ``shares.token_hash`` (the SHA-256 of the token, hashed in place) and gains
``token_salt`` (new shares' tokens are derived from it with the secrets key: app/store/share_tokens.py).
Every stored delivery payload has each old token replaced by a placeholder that cannot be filled (no
salt): a delivery still queued goes out without that share's URLs instead of with its token in the
database. A downgrade cannot bring the tokens back: old shares' URLs stop working.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "privilege_agency_0003"
down_revision = "privilege_agency_0002"
branch_labels = None
depends_on = None

_CANDIDATE = re.compile(r"[A-Za-z0-9_-]{16,128}")


def _scrub(value: Any, tokens: dict[str, str]) -> tuple[Any, bool]:
    """``value`` (a JSON document) with every known token replaced by its share's empty placeholder."""
    text = json.dumps(value, ensure_ascii=False)
    changed = False

    def one(m: re.Match[str]) -> str:
        nonlocal changed
        share_id = tokens.get(m.group(0))
        if share_id is None:
            return m.group(0)
        changed = True
        return f"~gtshare:{share_id}:~"

    out = _CANDIDATE.sub(one, text)
    return (json.loads(out), True) if changed else (value, False)


def upgrade() -> None:
    bind = op.get_bind()
    # RENAME COLUMN keeps the unique constraint on both SQLite (>= 3.25) and PostgreSQL.
    op.execute("ALTER TABLE shares RENAME COLUMN token TO token_hash")
    with op.batch_alter_table("shares") as batch:
        batch.add_column(sa.Column("token_salt", sa.String(length=32), nullable=True))
    shares = sa.table("shares", sa.column("id", sa.String), sa.column("token_hash", sa.String))
    rows = bind.execute(sa.select(shares.c.id, shares.c.token_hash)).all()
    tokens = {str(tok): str(sid) for sid, tok in rows}
    if rows:
        bind.execute(
            shares.update().where(shares.c.id == sa.bindparam("sid")).values(token_hash=sa.bindparam("h")),
            [{"sid": sid, "h": hashlib.sha256(str(tok).encode("utf-8")).hexdigest()} for sid, tok in rows],
        )
    if not tokens:
        return
    deliveries = sa.table("deliveries", sa.column("id", sa.String), sa.column("payload", sa.JSON))
    changed: list[dict[str, Any]] = []
    for did, payload in bind.execute(sa.select(deliveries.c.id, deliveries.c.payload)):
        new, hit = _scrub(payload, tokens)
        if hit:
            changed.append({"did": did, "p": new})
    if changed:
        bind.execute(
            deliveries.update()
            .where(deliveries.c.id == sa.bindparam("did"))
            .values(payload=sa.bindparam("p")),
            changed,
        )


def downgrade() -> None:
    with op.batch_alter_table("shares") as batch:
        batch.drop_column("token_salt")
    op.execute("ALTER TABLE shares RENAME COLUMN token_hash TO token")

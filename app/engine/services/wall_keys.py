"""Wall display keys: ``python main.py walls add WALL-1`` prints a key once; the wall PC presents it
(``python main.py wall --key-file F``) instead of an operator account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.engine.auth import digest, new_wall_key
from app.engine.errors import invalid
from app.store.models import WallKeyRow

ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def add_wall_key(session: Session, wall_id: str, now: datetime) -> str:
    """A new key for ``wall_id`` (the wall itself is created by the first layout a console gives it);
    the wall's earlier keys stop at once. Returns the key (shown once)."""
    if not wall_id or len(wall_id) > 64 or not set(wall_id) <= ID_CHARS:
        raise invalid("a wall id is 1–64 letters, digits, '-', '_' or '.'")
    revoke_wall_keys(session, wall_id, now)
    key = new_wall_key()
    session.add(WallKeyRow(key_hash=digest(key), wall_id=wall_id, created_at=now))
    return key


def revoke_wall_keys(session: Session, wall_id: str, now: datetime) -> int:
    result = session.execute(
        update(WallKeyRow)
        .where(WallKeyRow.wall_id == wall_id, WallKeyRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def wall_key_ids(session: Session) -> list[tuple[str, datetime, datetime | None]]:
    return [
        (r.wall_id, r.created_at, r.revoked_at)
        for r in session.scalars(select(WallKeyRow).order_by(WallKeyRow.wall_id, WallKeyRow.created_at))
    ]

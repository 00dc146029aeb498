"""The tamper-evident audit chain: every audit row carries the SHA-256 of the row before it and its own.

Canonical form of a row (what is hashed), documented in docs/ENGINE.md "Tamper-evident audit":
UTF-8 JSON, keys sorted, separators ``,`` and ``:``, no ASCII escaping, of the object
``{"action", "actor", "at", "client", "detail", "prev", "target_id", "target_type"}`` where ``at`` is
the UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive stored time is read as UTC), ``detail`` is the
JSON object as stored, and ``prev`` is the previous row's hash (64 lowercase hex; the genesis row's
``prev`` is 64 zeros). ``row_hash = sha256(canonical).hexdigest()``. Rows are chained in ``id`` order;
the ids are taken under the same lock as the chain head, so id order is chain order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app.store.driver_sql import DriverInsert, DriverQuery
from app.store.models import AuditRow

GENESIS = "0" * 64
CHAIN_LOCK = 0x47540002  # PostgreSQL advisory lock: the audit chain's head is read and extended by one writer
_PENDING = "audit_pending"

# Built once (issue 17): plain Core statements on the unit's connection, their cache keys memoised.
_TABLE = AuditRow.__table__
assert isinstance(_TABLE, Table)
_INSERT = DriverInsert(_TABLE)
_HEAD = (
    select(AuditRow.id, AuditRow.row_hash)
    .where(AuditRow.row_hash.is_not(None))
    .order_by(AuditRow.id.desc())
    .limit(1)
)
_LAST = DriverQuery(select(AuditRow.id, AuditRow.row_hash).order_by(AuditRow.id.desc()).limit(1))
_MAX_ID = select(func.coalesce(func.max(AuditRow.id), 0))
_LOCK = select(func.pg_advisory_xact_lock(CHAIN_LOCK))


def _at(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: dict[str, Any], prev: str) -> bytes:
    body = {
        "action": row["action"],
        "actor": row["actor"],
        "at": _at(row["at"]),
        "client": row.get("client"),
        "detail": row.get("detail") or {},
        "prev": prev,
        "target_id": row.get("target_id"),
        "target_type": row["target_type"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(row: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(canonical(row, prev)).hexdigest()


def add_audit(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Queue audit rows in ``session``'s transaction; they are chained and written just before the commit."""
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    for r in rows:
        # Normalise the detail exactly as the database will hand it back (tuples → lists, etc.).
        pending.append({**r, "detail": json.loads(json.dumps(r.get("detail") or {}, default=str))})


def forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def head(session: Session) -> tuple[int, str]:
    last = session.connection().execute(_HEAD).first()
    return (0, GENESIS) if last is None else (int(last[0]), str(last[1]))


def write_pending(session: Session, is_sqlite: bool) -> None:
    """Chain and insert the queued rows: one writer at a time extends the head (SQLite's write lock, or a
    transaction-scoped advisory lock on PostgreSQL held until the commit)."""
    pending: list[dict[str, Any]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    conn = session.connection()
    if not is_sqlite:
        conn.execute(_LOCK)
    if is_sqlite:
        # The newest row is normally the chain's head, and its id the highest: one query for both. A newest
        # row without a hash (written before the chain, or behind the engine's back) takes the two queries.
        last = _LAST.first(conn)
        if last is None:
            base, prev = 0, GENESIS
        elif last[1] is not None:
            base, prev = int(last[0]), str(last[1])
        else:
            _, prev = head(session)
            base = int(conn.scalar(_MAX_ID) or 0)
    else:
        _, prev = head(session)
    for r in pending:
        r["prev_hash"] = prev
        r["row_hash"] = prev = row_hash(r, prev)
    if is_sqlite:
        # One writer holds the file: the ids are ours to number, and one multi-row statement writes them all
        # (issue 17: the per-row statements were a tenth of an intake's database time).
        for i, r in enumerate(pending, start=1):
            r["id"] = base + i
        _INSERT(conn, pending)
        return
    for r in pending:  # one row a statement keeps id order = list order (PostgreSQL numbers them)
        _INSERT(conn, [r])


@dataclass(frozen=True)
class Problem:
    row_id: int
    what: str


def _as_dict(r: AuditRow) -> dict[str, Any]:
    return {
        "at": r.at,
        "actor": r.actor,
        "action": r.action,
        "target_type": r.target_type,
        "target_id": r.target_id,
        "client": r.client,
        "detail": r.detail,
    }


def walk(rows: Iterable[AuditRow], start_prev: str | None = None) -> Iterator[tuple[AuditRow, str | None]]:
    """Yield each row with what is wrong with it (None if it chains). ``start_prev``: the hash the first
    chained row must follow (GENESIS, or an archived checkpoint's head)."""
    expected = start_prev
    started = False
    for r in rows:
        if r.row_hash is None:
            if started:
                yield r, "row has no chain hash: inserted behind the engine's back"
            else:
                yield r, None  # written before the chain existed
            continue
        if not started:
            started = True
            if expected is None:
                expected = r.prev_hash if r.prev_hash == GENESIS else GENESIS
        if r.prev_hash != expected:
            yield (
                r,
                (
                    "does not follow the row before it (a row before it was deleted or inserted, "
                    "or this row's link was changed)"
                ),
            )
            expected = r.row_hash
            continue
        if row_hash(_as_dict(r), expected or GENESIS) != r.row_hash:
            yield r, "content changed since it was written (hash does not match)"
            expected = r.row_hash
            continue
        expected = r.row_hash
        yield r, None


def verify(
    session: Session, start_prev: str | None = None, after_id: int = 0
) -> tuple[int, list[Problem], str]:
    """Walk the chain (the rows after ``after_id``, the last archived one, following ``start_prev``, its
    hash): (rows checked, problems in id order, head hash)."""
    problems: list[Problem] = []
    n = 0
    last = start_prev or GENESIS
    q = select(AuditRow).where(AuditRow.id > after_id).order_by(AuditRow.id).execution_options(yield_per=2000)
    for r, what in walk(session.scalars(q), start_prev):
        n += 1
        if what:
            problems.append(Problem(r.id, what))
        if r.row_hash:
            last = r.row_hash
    return n, problems, last

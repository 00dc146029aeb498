"""The retention policy (``[retention]``, docs/ENGINE.md "Retention"): what is deleted when, in small
batches, each run audited; old audit rows leave only into a signed archive segment.

``run`` is called by ``python main.py retention run [--as-of]`` and daily by the engine
(:class:`app.engine.audit_tasks.RetentionTask`). Every batch is its own short transaction, so a run
never holds SQLite's single writer for long; a run cut short is finished by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, select

from app.domain.enums import IncidentStatus
from app.engine.auth import SYSTEM, Principal
from app.engine.retention_settings import RetentionSettings
from app.engine.work import UnitOfWorkFactory
from app.store import audit_archive, audit_checkpoint
from app.store.models import (
    AuditRow,
    DeliveryRow,
    IncidentRow,
    LiveEventRow,
    MediaGrantRow,
    ReportRow,
    SensorReadingRow,
    SessionRow,
    TrackPointRow,
)

_log = logging.getLogger(__name__)


@dataclass
class Outcome:
    as_of: datetime
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    archive: dict[str, Any] | None = None
    archive_error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "deleted": self.deleted,
            "archive": self.archive,
            "archive_error": self.archive_error,
        }


def _closed_before(cutoff: datetime) -> Select[Any]:
    return select(IncidentRow.id).where(
        IncidentRow.status == IncidentStatus.CLOSED.value,
        IncidentRow.closed_at.is_not(None),
        IncidentRow.closed_at < cutoff,
    )


def _in_batches(uow: UnitOfWorkFactory, batch: int, pick: Callable[[Any], list[Any]], drop: Any) -> int:
    """Delete ``pick(session)``'s ids (at most ``batch`` a transaction) until none are left."""
    total = 0
    while True:
        with uow.writing() as s:
            ids = pick(s)
            if not ids:
                return total
            drop(s, ids)
            total += len(ids)


def _oldest_readings(cut: datetime, n: int) -> tuple[Callable[[Any], list[Any]], Any]:
    """(pick, drop) for the sensor readings received before ``cut``. Readings are numbered as they are
    written, so the oldest are the lowest ids: each batch looks at the ``n`` lowest (the primary key, no
    scan of the table, which may hold many millions of rows) and stops at the first batch with none old
    enough."""

    def pick(s: Any) -> list[Any]:
        rows = s.execute(
            select(SensorReadingRow.id, SensorReadingRow.at).order_by(SensorReadingRow.id).limit(n)
        ).all()
        return [i for i, at in rows if at < cut]

    def drop(s: Any, ids: list[Any]) -> None:
        s.execute(
            delete(SensorReadingRow).where(
                SensorReadingRow.id >= min(ids), SensorReadingRow.id <= max(ids), SensorReadingRow.at < cut
            )
        )

    return pick, drop


class Retention:
    def __init__(self, uow: UnitOfWorkFactory, policy: RetentionSettings, data_dir: Path) -> None:
        self.uow = uow
        self.policy = policy
        self.data_dir = data_dir

    def run(self, as_of: datetime, principal: Principal = SYSTEM) -> Outcome:
        out = Outcome(as_of=as_of)
        p = self.policy
        n = p.batch_rows

        # Location tracks, 30 days after the incident closed.
        cut = as_of - timedelta(days=p.track_days_after_close)
        count = _in_batches(
            self.uow,
            n,
            lambda s: list(
                s.scalars(
                    select(TrackPointRow.id)
                    .where(TrackPointRow.incident_id.in_(_closed_before(cut)))
                    .limit(n)
                )
            ),
            lambda s, ids: s.execute(delete(TrackPointRow).where(TrackPointRow.id.in_(ids))),
        )
        out.deleted["track_points"] = {"count": count, "incidents_closed_before": cut.isoformat()}

        # Stored webhooks (outbox rows with their payloads), 30 days after the incident closed.
        cut = as_of - timedelta(days=p.webhook_days_after_close)
        count = _in_batches(
            self.uow,
            n,
            lambda s: list(
                s.scalars(
                    select(DeliveryRow.id).where(DeliveryRow.incident_id.in_(_closed_before(cut))).limit(n)
                )
            ),
            lambda s, ids: s.execute(delete(DeliveryRow).where(DeliveryRow.id.in_(ids))),
        )
        out.deleted["webhook_deliveries"] = {"count": count, "incidents_closed_before": cut.isoformat()}

        # Report snapshots (JPEG files in <data_dir>/snapshots), 30 days after the incident closed.
        cut = as_of - timedelta(days=p.snapshot_days_after_close)
        out.deleted["snapshots"] = {"count": self._snapshots(cut), "incidents_closed_before": cut.isoformat()}

        # Live events (the consoles' catch-up feed), 7 days; the newest always stays (its number is the
        # feed's position, and SQLite would hand a freed number out again).
        cut = as_of - timedelta(days=p.live_event_days)

        def live_ids(s: Any) -> list[Any]:
            newest = s.scalar(select(func.max(LiveEventRow.seq)))
            if newest is None:
                return []
            q = select(LiveEventRow.seq).where(LiveEventRow.at < cut, LiveEventRow.seq < newest)
            return list(s.scalars(q.order_by(LiveEventRow.seq).limit(n)))

        count = _in_batches(
            self.uow,
            n,
            live_ids,
            lambda s, ids: s.execute(delete(LiveEventRow).where(LiveEventRow.seq.in_(ids))),
        )
        out.deleted["live_events"] = {"count": count, "before": cut.isoformat()}

        # Sessions that ended (or expired) 7 days ago, with their media grants.
        cut = as_of - timedelta(days=p.session_days)

        def session_ids(s: Any) -> list[Any]:
            q = select(SessionRow.token_hash).where(
                ((SessionRow.ended_at.is_not(None)) & (SessionRow.ended_at < cut))
                | (SessionRow.expires_at < cut)
            )
            return list(s.scalars(q.limit(n)))

        def drop_sessions(s: Any, ids: list[Any]) -> None:
            s.execute(delete(MediaGrantRow).where(MediaGrantRow.session_hash.in_(ids)))
            s.execute(delete(SessionRow).where(SessionRow.token_hash.in_(ids)))

        count = _in_batches(self.uow, n, session_ids, drop_sessions)
        out.deleted["sessions"] = {"count": count, "ended_before": cut.isoformat()}

        # Sensor readings that opened nothing, 30 days after they were received.
        cut = as_of - timedelta(days=p.sensor_reading_days)
        count = _in_batches(self.uow, n, *_oldest_readings(cut, n))
        out.deleted["sensor_readings"] = {"count": count, "received_before": cut.isoformat()}

        # The audit: rows older than audit_days leave into a signed archive segment.
        cut = as_of - timedelta(days=p.audit_days)
        try:
            out.archive = self.archive_audit(cut, as_of)
        except audit_archive.ArchiveError as exc:
            out.archive_error = str(exc)
            _log.error("audit archive refused: %s", exc)
        deleted_audit = self._delete_archived()
        out.deleted["audit"] = {"count": deleted_audit, "before": cut.isoformat(), "archived": out.archive}

        with self.uow(principal) as work:
            work.audit("retention.run", "retention", None, **out.summary())
        return out

    # ------------------------------------------------------------------ parts

    def _snapshots(self, cut: datetime) -> int:
        directory = self.data_dir / "snapshots"
        if not directory.is_dir():
            return 0
        with self.uow.read() as s:
            ids = list(
                s.scalars(
                    select(ReportRow.id).where(
                        ReportRow.incident_id.in_(_closed_before(cut)), ReportRow.camera_id.is_not(None)
                    )
                )
            )
        count = 0
        for report_id in ids:
            path = directory / f"{report_id}.jpg"
            try:
                path.unlink()
                count += 1
            except FileNotFoundError:
                pass
        return count

    def archive_audit(self, cut: datetime, now: datetime) -> dict[str, Any] | None:
        """Write the rows older than ``cut`` (a prefix of the chain; the newest row always stays) into a
        sealed segment and record its seal; the rows are deleted afterwards (``_delete_archived``)."""
        trusted = audit_checkpoint.public_hex(self.data_dir)
        with self.uow.read() as s:
            start = audit_archive.live_start(s, trusted)
            if start.problem:
                raise audit_archive.ArchiveError(start.problem)
            newest = s.scalar(select(func.max(AuditRow.id)))
            if newest is None:
                return None
            first_young = s.scalar(
                select(func.min(AuditRow.id)).where(AuditRow.id > start.after_id, AuditRow.at >= cut)
            )
            last = min(newest - 1, (first_young - 1) if first_young is not None else newest)
            if last <= start.after_id:
                return None
            rows = s.scalars(
                select(AuditRow)
                .where(AuditRow.id > start.after_id, AuditRow.id <= last)
                .order_by(AuditRow.id)
                .execution_options(yield_per=2000)
            )
            seal = audit_archive.write_segment(
                rows,
                self.policy.archive_path(self.data_dir),
                audit_checkpoint.signing_key(self.data_dir),
                start.prev,
                cut,
                now,
            )
        with self.uow.writing() as s:
            s.add(audit_archive.row_of_seal(seal))
        return {k: seal[k] for k in ("first_id", "last_id", "rows", "last_hash", "sha256", "file")}

    def _delete_archived(self) -> int:
        with self.uow.read() as s:
            row = audit_archive.latest(s)
        if row is None:
            return 0
        upto, n = row.last_id, self.policy.batch_rows
        return _in_batches(
            self.uow,
            n,
            lambda s: list(
                s.scalars(select(AuditRow.id).where(AuditRow.id <= upto).order_by(AuditRow.id).limit(n))
            ),
            lambda s, ids: s.execute(delete(AuditRow).where(AuditRow.id.in_(ids))),
        )

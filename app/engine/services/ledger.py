"""The use-and-provision ledger (개인영상정보 이용·제공 관리대장): one row per provision of video to another body.

A provision is a share (form: live view) or a report's snapshot (form: snapshot, with its live share); the row
carries the recipient, purpose, legal basis, period, who created and who approved it, and every viewing of its
cameras recorded by the audit (``video.view`` rows, whose detail names the share).
Reading it through the API is itself audited. ``ledger_rows`` works on a plain session for the CLI export.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import forbidden
from app.engine.provision_settings import ProvisionSettings
from app.engine.views import share_status
from app.formats.api import LedgerRowOut, LedgerViewing
from app.store.models import AgencyRow, AuditRow, CameraRow, ReportRow, ShareRow

READERS = (Role.SUPERVISOR, Role.AUDITOR)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _viewings(session: Session, share_ids: list[str]) -> dict[str, list[LedgerViewing]]:
    """Viewings per share from the audit: ``video.view`` rows (an ended viewing: from/to) and, when the audit
    records starts too (``video.view.start`` or a row without ``to``), viewings that never ended."""
    wanted = set(share_ids)
    out: dict[str, dict[tuple[str, str | None, str], LedgerViewing]] = defaultdict(dict)
    if not wanted:
        return {}
    q = select(AuditRow).where(AuditRow.action.like("video.view%")).order_by(AuditRow.id)
    for row in session.scalars(q):
        detail = row.detail or {}
        sid = detail.get("share_id")
        if sid not in wanted:
            continue
        start = _parse(detail.get("from")) or _parse(detail.get("started_at")) or row.at
        end = _parse(detail.get("to")) or _parse(detail.get("ended_at"))
        # A viewing's start (video.view.start) and end (video.view) share their ``viewing`` id; a start
        # without an end stays as an open viewing (still going, or the engine stopped before its end).
        viewing = detail.get("viewing")
        key = ("viewing", None, str(viewing)) if viewing else (row.actor, row.target_id, start.isoformat())
        seen = out[sid].get(key)
        if seen is not None and seen.ended_at is not None and end is None:
            continue
        out[sid][key] = LedgerViewing(
            actor=row.actor,
            camera_id=row.target_id,
            started_at=start,
            ended_at=end,
            seconds=None if end is None else round((end - start).total_seconds(), 1),
            client=row.client,
            viewing_id=str(viewing) if viewing else None,
        )
    return {sid: sorted(v.values(), key=lambda x: x.started_at) for sid, v in out.items()}


def ledger_rows(
    session: Session,
    provision: ProvisionSettings,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100_000,
) -> list[LedgerRowOut]:
    q = select(ShareRow).order_by(ShareRow.created_at, ShareRow.id).limit(limit)
    if since is not None:
        q = q.where(ShareRow.created_at >= since)
    if until is not None:
        q = q.where(ShareRow.created_at < until)
    shares = list(session.scalars(q))
    ids = [s.id for s in shares]
    reports = {
        r.share_id: r
        for r in session.scalars(select(ReportRow).where(ReportRow.share_id.in_(ids)))
        if r.share_id is not None
    }
    agencies = {a.id: a.name for a in session.scalars(select(AgencyRow))}
    cam_ids = {str(c) for s in shares for c in s.camera_ids}
    providers = {
        c.id: c.provider
        for c in session.scalars(select(CameraRow).where(CameraRow.id.in_(cam_ids)))
        if getattr(c, "provider", "")
    }
    views = _viewings(session, ids)
    rows = []
    for s in shares:
        basis = provision.basis(s.legal_basis)
        report = reports.get(s.id)
        status = share_status(s, now).value
        active = s.approval not in ("pending", "confirm", "rejected")
        cams = [str(c) for c in s.camera_ids]
        rows.append(
            LedgerRowOut(
                date=s.created_at,
                share_id=s.id,
                report_id=None if report is None else report.id,
                incident_id=s.incident_id,
                recipient_id=s.agency_id,
                recipient=agencies.get(s.agency_id, s.agency_id),
                purpose=s.purpose,
                legal_basis=s.legal_basis,
                legal_basis_title=(
                    ""
                    if basis is None
                    else f"{basis.law} {basis.article} ({basis.title_ko} / {basis.title_en})"
                ),
                period_from=(s.approved_at or s.created_at) if active else None,
                period_to=(s.revoked_at if s.revoked_at and s.revoked_at < s.expires_at else s.expires_at)
                if active
                else None,
                form="snapshot and live view" if report is not None else "live view",
                cameras=cams,
                camera_providers=sorted({providers[c] for c in cams if c in providers}),
                status=status,
                requested_by=(
                    None
                    if s.requesting_agency_id is None
                    else agencies.get(s.requesting_agency_id, s.requesting_agency_id)
                ),
                requesting_officer=s.requesting_officer or None,
                case_number=s.case_number or None,
                created_by=s.created_by,
                approver=s.approved_by if s.approval in ("approved", "rejected") else None,
                viewings=views.get(s.id, []),
            )
        )
    return rows


def read_ledger(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10_000,
) -> list[LedgerRowOut]:
    if not principal.has_role(*READERS):
        raise forbidden("the provision ledger is for supervisors and auditors")
    with ctx.uow.reading(principal, client) as work:
        rows = ledger_rows(work.session, ctx.settings.provision, work.now, since, until, limit)
        work.audit(
            "ledger.read",
            "ledger",
            None,
            since=None if since is None else since.isoformat(),
            until=None if until is None else until.isoformat(),
            rows=len(rows),
        )
        return rows


COLUMNS = (
    ("date", "일자 (date)"),
    ("recipient", "제공받는 자 (recipient)"),
    ("purpose", "목적 (purpose)"),
    ("legal_basis", "법적 근거 (legal basis)"),
    ("period", "기간 (period)"),
    ("form", "형태 (form)"),
    ("cameras", "카메라 (cameras)"),
    ("providers", "관리기관 (camera provider)"),
    ("requester", "요청 기관·담당자·사건번호 (requester, officer, case)"),
    ("created_by", "작성자 (created by)"),
    ("approver", "승인자 (approver)"),
    ("status", "상태 (status)"),
    ("viewings", "열람 (who watched which camera, when, how long)"),
    ("share_id", "제공 번호 (share id)"),
    ("incident_id", "사건 번호 (incident id)"),
)


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


def flat(row: LedgerRowOut) -> list[str]:
    """The row as the ledger's cells, in ``COLUMNS`` order."""
    watched = "; ".join(
        f"{v.actor} {v.camera_id or ''} {_ts(v.started_at)}–{_ts(v.ended_at) or '… (open: no end recorded)'}"
        + ("" if v.seconds is None else f" ({v.seconds:g} s)")
        for v in row.viewings
    )
    requester = " / ".join(x for x in (row.requested_by, row.requesting_officer, row.case_number) if x)
    return [
        _ts(row.date),
        row.recipient,
        row.purpose,
        f"{row.legal_basis} {row.legal_basis_title}".strip(),
        f"{_ts(row.period_from)} – {_ts(row.period_to)}" if row.period_from else "",
        row.form,
        ", ".join(row.cameras),
        ", ".join(row.camera_providers),
        requester,
        row.created_by,
        row.approver or "",
        row.status,
        watched,
        row.share_id or "",
        row.incident_id,
    ]


def _safe(cell: str) -> str:
    # Spreadsheet formula injection: a cell from outside input must not start a formula.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def to_csv(rows: list[LedgerRowOut]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([title for _, title in COLUMNS])
    for r in rows:
        w.writerow([_safe(c) for c in flat(r)])
    return buf.getvalue()


def to_xlsx(rows: list[LedgerRowOut]) -> bytes:
    from openpyxl import Workbook  # imported here: only the export needs it

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "관리대장"
    ws.append([title for _, title in COLUMNS])
    for r in rows:
        ws.append([_safe(c) for c in flat(r)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

"""Store rows → API models. One place, so the API, the live push and the outbox all say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import DeliveryState, IncidentStatus, Purpose, Service, ShareStatus
from app.formats.api import (
    CameraOut,
    CameraRegisterOut,
    DeliveryOut,
    FacilityOut,
    IncidentDetailOut,
    IncidentOut,
    LocationOut,
    ReportOut,
    ShareOut,
    TimelineEventOut,
    TrackPointOut,
)
from app.store.models import (
    CameraRow,
    DeliveryRow,
    FacilityRow,
    IncidentCameraRow,
    IncidentFacilityRow,
    IncidentRow,
    ReportRow,
    ShareRow,
    TimelineRow,
    TrackPointRow,
)

# (token, camera_id) -> URL; built from the deployment's URL template.
UrlBuilder = Callable[[str, str], str]
# share -> its token (or an outbox placeholder), None when it cannot be given out.
TokenOf = Callable[[ShareRow], str | None]


def incident_out(row: IncidentRow, golden_time_s: int) -> IncidentOut:
    return IncidentOut(
        id=row.id,
        service=Service(row.service),
        status=IncidentStatus(row.status),
        title=row.title,
        priority=row.priority,
        exercise=row.exercise,
        location=LocationOut(lat=row.lat, lon=row.lon, address=row.address),
        area=row.area,
        external_id=row.external_id,
        agency_id=row.agency_id,
        assignee=row.assignee,
        details=row.details or {},
        units=list(row.units or []),
        created_at=row.created_at,
        updated_at=row.updated_at,
        acknowledged_at=row.acknowledged_at,
        closed_at=row.closed_at,
        golden_time_s=golden_time_s,
    )


def camera_out(row: CameraRow, link: IncidentCameraRow | None = None) -> CameraOut:
    return CameraOut(
        id=row.id,
        name=row.name,
        lat=row.lat,
        lon=row.lon,
        purpose=Purpose(row.purpose),
        direction_deg=row.direction_deg,
        fov_deg=row.fov_deg,
        online=row.online,
        distance_m=None if link is None else round(link.distance_m, 1),
        covers_point=None if link is None else link.covers_point,
        role=None if link is None else link.role,
        approximate=row.approximate,
        retired=row.retired_at is not None,
        register_entry=_register_out(row),
    )


def _register_out(row: CameraRow) -> CameraRegisterOut | None:
    if not (row.provider or row.provider_code or row.register_no):
        return None
    return CameraRegisterOut(
        provider=row.provider,
        provider_code=row.provider_code,
        register_no=row.register_no,
        road_address=row.road_address,
        lot_address=row.lot_address,
        purpose_text=row.purpose_text,
        installed=row.installed,
        pixels=row.pixels,
        view=row.view,
        retention_days=row.retention_days,
        phone=row.phone,
        data_date=row.data_date,
    )


def share_status(row: ShareRow, now: datetime) -> ShareStatus:
    if row.approval == "rejected":
        return ShareStatus.REJECTED
    if row.revoked_at is not None:
        return ShareStatus.REVOKED
    if row.approval in ("pending", "confirm"):
        return ShareStatus.PENDING
    if row.expires_at <= now:
        return ShareStatus.EXPIRED
    return ShareStatus.ACTIVE


def share_out(
    row: ShareRow,
    now: datetime,
    url: UrlBuilder,
    viewer: Callable[[str], str] | None = None,
    *,
    internal: bool = False,
    token: TokenOf | None = None,
) -> ShareOut:
    """A share as an answer. ``internal`` (console users only) adds who created and decided it and a pending
    extension; an agency sees its basis and status, and who asked only when it asked itself.

    ``token`` gives the share's token (or an outbox placeholder) for the URLs of an active share; the store
    keeps only its hash, so without it (or when it answers None) the share has no URLs."""
    status = share_status(row, now)
    tok = token(row) if token is not None and status is ShareStatus.ACTIVE else None
    own_request = row.requesting_agency_id is not None and row.requesting_agency_id == row.agency_id
    asked = internal or own_request
    cams = [str(c) for c in row.camera_ids]
    return ShareOut(
        id=row.id,
        incident_id=row.incident_id,
        agency_id=row.agency_id,
        camera_ids=cams,
        purpose=row.purpose,
        status=status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        urls={c: url(tok, c) for c in cams} if tok is not None else {},
        viewer_url=viewer(tok) if viewer is not None and tok is not None else None,
        legal_basis=row.legal_basis or None,
        requesting_agency_id=row.requesting_agency_id if asked else None,
        requesting_officer=(row.requesting_officer or None) if asked else None,
        case_number=(row.case_number or None) if asked else None,
        minutes=row.minutes,
        approval=row.approval,
        approved_by=row.approved_by if internal else None,
        approved_at=row.approved_at,
        decision_reason=(row.decision_reason or None) if internal else None,
        created_by=row.created_by if internal else None,
        pending_extension_minutes=row.ext_minutes if internal else None,
        pending_extension_reason=(row.ext_reason or None) if internal else None,
    )


def report_out(row: ReportRow, snapshot_url: str | None) -> ReportOut:
    return ReportOut(
        id=row.id,
        incident_id=row.incident_id,
        agency_id=row.agency_id,
        kind=row.kind,
        note=row.note,
        camera_id=row.camera_id,
        snapshot_url=snapshot_url,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def delivery_out(row: DeliveryRow) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        agency_id=row.agency_id,
        incident_id=row.incident_id,
        event_type=row.event_type,
        sequence=row.sequence,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


def incident_cameras(session: Session, incident_id: str) -> list[CameraOut]:
    rows = session.execute(
        select(CameraRow, IncidentCameraRow)
        .join(IncidentCameraRow, IncidentCameraRow.camera_id == CameraRow.id)
        .where(IncidentCameraRow.incident_id == incident_id)
        .order_by(IncidentCameraRow.rank)
    ).all()
    return [camera_out(cam, link) for cam, link in rows]


def incident_facilities(session: Session, incident_id: str) -> list[FacilityOut]:
    rows = session.execute(
        select(FacilityRow, IncidentFacilityRow.distance_m)
        .join(IncidentFacilityRow, IncidentFacilityRow.facility_id == FacilityRow.id)
        .where(IncidentFacilityRow.incident_id == incident_id)
        .order_by(IncidentFacilityRow.distance_m)
    ).all()
    return [
        FacilityOut(
            id=f.id, name=f.name, kind=f.kind, lat=f.lat, lon=f.lon, notes=f.notes, distance_m=round(d, 1)
        )
        for f, d in rows
    ]


def incident_detail(
    session: Session,
    row: IncidentRow,
    *,
    golden_time_s: int,
    now: datetime,
    url: UrlBuilder,
    snapshot_url: Callable[[ReportRow, Session], str | None],
    agency_id: str | None = None,
    viewer: Callable[[str], str] | None = None,
    token: TokenOf | None = None,
) -> IncidentDetailOut:
    """Everything about one incident; an agency (``agency_id``) sees only its own shares and deliveries."""
    base = incident_out(row, golden_time_s)
    shares_q = select(ShareRow).where(ShareRow.incident_id == row.id).order_by(ShareRow.created_at)
    deliveries_q = (
        select(DeliveryRow)
        .where(DeliveryRow.incident_id == row.id)
        .order_by(DeliveryRow.agency_id, DeliveryRow.sequence)
    )
    reports_q = select(ReportRow).where(ReportRow.incident_id == row.id).order_by(ReportRow.created_at)
    if agency_id is not None:
        shares_q = shares_q.where(ShareRow.agency_id == agency_id)
        deliveries_q = deliveries_q.where(DeliveryRow.agency_id == agency_id)
        reports_q = reports_q.where(ReportRow.agency_id == agency_id)
    timeline = session.scalars(
        select(TimelineRow).where(TimelineRow.incident_id == row.id).order_by(TimelineRow.id)
    ).all()
    track = session.scalars(
        select(TrackPointRow).where(TrackPointRow.incident_id == row.id).order_by(TrackPointRow.id)
    ).all()
    return IncidentDetailOut(
        **base.model_dump(),
        timeline=[
            TimelineEventOut(id=t.id, at=t.at, kind=t.kind, actor=t.actor, data=t.data or {})
            for t in timeline
        ],
        cameras=incident_cameras(session, row.id),
        shares=[
            share_out(s, now, url, viewer, internal=agency_id is None, token=token)
            for s in session.scalars(shares_q)
        ],
        deliveries=[delivery_out(d) for d in session.scalars(deliveries_q)],
        facilities=incident_facilities(session, row.id),
        reports=[report_out(r, snapshot_url(r, session)) for r in session.scalars(reports_q)],
        track=[TrackPointOut(lat=p.lat, lon=p.lon, at=p.at) for p in track],
    )

"""What an agency may see of an incident (object-level authorisation: an agency only ever sees its own).

An agency reads an incident while it holds an active share in it, or while the incident is open and the
agency opened it. What it sees is filtered: its own shares, deliveries and reports; the incident's public
fields and place; the cameras of its active shares; the track only while one of its shares is active; never
the timeline (operator notes, other agencies' shares), the assignee, or another agency's id or number.
Anything it may not see answers 404 exactly like something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from app.domain.enums import IncidentStatus
from app.domain.stream_url import scrub
from app.engine.views import (
    TokenOf,
    UrlBuilder,
    delivery_out,
    incident_cameras,
    incident_facilities,
    incident_out,
    report_out,
    share_out,
)
from app.formats.api import DeliveryOut, IncidentDetailOut, IncidentOut, TrackPointOut
from app.store.models import DeliveryRow, IncidentRow, ReportRow, ShareRow, TrackPointRow


def public_incident(out: IncidentOut, agency_id: str) -> IncidentOut:
    """``out`` as agency ``agency_id`` may see it: no assignee; the requester's id and number only when
    the agency is the requester."""
    own = out.agency_id == agency_id
    details = out.details
    units = details.get("unit_positions") if isinstance(details, dict) else None
    if isinstance(units, list):  # dispatched units' positions: only the agency's own
        details = {
            **details,
            "unit_positions": [u for u in units if isinstance(u, dict) and u.get("agency_id") == agency_id],
        }
    return out.model_copy(
        update={
            "assignee": None,
            "agency_id": out.agency_id if own else None,
            "external_id": out.external_id if own else None,
            "details": details,
        }
    )


def active_share_clause(agency_id: str, now: datetime) -> ColumnElement[bool]:
    return and_(ShareRow.agency_id == agency_id, ShareRow.revoked_at.is_(None), ShareRow.expires_at > now)


def visible_clause(agency_id: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the incidents agency ``agency_id`` may read now."""
    return or_(
        and_(IncidentRow.agency_id == agency_id, IncidentRow.status != IncidentStatus.CLOSED.value),
        exists().where(ShareRow.incident_id == IncidentRow.id, active_share_clause(agency_id, now)),
    )


def active_shares(session: Session, incident_id: str, agency_id: str, now: datetime) -> list[ShareRow]:
    return list(
        session.scalars(
            select(ShareRow).where(ShareRow.incident_id == incident_id, active_share_clause(agency_id, now))
        )
    )


def may_read(session: Session, row: IncidentRow | None, agency_id: str, now: datetime) -> bool:
    if row is None:
        return False
    if row.agency_id == agency_id and row.status != IncidentStatus.CLOSED.value:
        return True
    return bool(active_shares(session, row.id, agency_id, now))


def agency_incident_detail(
    session: Session,
    row: IncidentRow,
    agency_id: str,
    *,
    golden_time_s: int,
    now: datetime,
    url: UrlBuilder,
    snapshot_url: Callable[[ReportRow, Session], str | None],
    viewer: Callable[[str], str] | None = None,
    token: TokenOf | None = None,
) -> IncidentDetailOut:
    base = public_incident(incident_out(row, golden_time_s), agency_id)
    mine_active = active_shares(session, row.id, agency_id, now)
    shared_cameras = {str(c) for s in mine_active for c in s.camera_ids}
    shares = session.scalars(
        select(ShareRow)
        .where(ShareRow.incident_id == row.id, ShareRow.agency_id == agency_id)
        .order_by(ShareRow.created_at)
    )
    deliveries = session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.incident_id == row.id, DeliveryRow.agency_id == agency_id)
        .order_by(DeliveryRow.sequence)
    )
    reports = session.scalars(
        select(ReportRow)
        .where(ReportRow.incident_id == row.id, ReportRow.agency_id == agency_id)
        .order_by(ReportRow.created_at)
    )
    track = (
        session.scalars(
            select(TrackPointRow).where(TrackPointRow.incident_id == row.id).order_by(TrackPointRow.id)
        ).all()
        if mine_active
        else []
    )
    return IncidentDetailOut(
        **base.model_dump(),
        timeline=[],
        cameras=[c for c in incident_cameras(session, row.id) if c.id in shared_cameras],
        shares=[share_out(s, now, url, viewer, token=token) for s in shares],
        deliveries=[_agency_delivery(d) for d in deliveries],
        facilities=incident_facilities(session, row.id),
        reports=[report_out(r, snapshot_url(r, session)) for r in reports],
        track=[TrackPointOut(lat=p.lat, lon=p.lon, at=p.at) for p in track],
    )


def _agency_delivery(row: DeliveryRow) -> DeliveryOut:
    """A delivery as its agency sees it: the error text without addresses or URLs (a refusal names what
    the engine's resolver answered, which may be the city's internal network)."""
    out = delivery_out(row)
    if out.last_error:
        out = out.model_copy(update={"last_error": scrub(out.last_error)})
    return out

"""Telling agencies and consoles about a change, inside the change's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.engine.agency_views import public_incident
from app.engine.context import EngineContext
from app.engine.views import incident_cameras, incident_facilities, incident_out, report_out, share_out
from app.engine.work import Work
from app.formats.api import CameraOut, EventType, FacilityOut, IncidentOut, OutboundEvent
from app.store.models import AgencyRow, IncidentRow, ReportRow, ShareRow


def incident_view(ctx: EngineContext, work: Work, incident: IncidentRow) -> IncidentOut:
    """The incident as an answer (before any agency's filter). The detached row an intake created in this
    unit is written once and never changed afterwards, so its view is built once (issue 17)."""
    known = work.new_views.get(incident.id)
    if known is not None and known[0] is incident:
        view: IncidentOut = known[1]
        return view
    return incident_out(incident, ctx.golden_time(incident.service))


def send(
    ctx: EngineContext,
    work: Work,
    agency: AgencyRow,
    incident: IncidentRow,
    event_type: EventType,
    *,
    share: ShareRow | None = None,
    report: ReportRow | None = None,
    alert: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Queue one event for one agency; a disabled agency still gets the row (delivered when re-enabled)."""
    cameras = cameras_of(work, incident.id)
    if share is not None:
        allowed = {str(c) for c in share.camera_ids}
        cameras = [c for c in cameras if c.id in allowed]
    facilities = facilities_of(work, incident.id)
    # The recipient sees no assignee, and another agency's id and number never.
    inc = public_incident(incident_view(ctx, work, incident), agency.id)
    # The stored payload holds a placeholder where a token goes; the dispatcher fills it in when it sends.
    share_view = (
        None
        if share is None
        else share_out(share, work.now, ctx.media_url, ctx.viewer_url, token=ctx.share_placeholder)
    )
    report_view = None
    if report is not None:
        report_view = report_out(report, ctx.report_snapshot_url(report, work.session, stored=True))

    def build(event_id: str, sequence: int) -> OutboundEvent:
        return OutboundEvent(
            type=event_type,
            id=event_id,
            occurred_at=work.now,
            sequence=sequence,
            incident=inc,
            cameras=cameras,
            facilities=facilities,
            share=share_view,
            report=report_view,
            alert=alert,
            note=note,
        )

    work.enqueue(agency, incident, event_type, build)


def cameras_of(work: Work, incident_id: str) -> list[CameraOut]:
    """The incident's cameras: what this transaction chose, else what the store holds."""
    if incident_id not in work.cameras:
        work.session.flush()
        work.cameras[incident_id] = incident_cameras(work.session, incident_id)
    return work.cameras[incident_id]


def facilities_of(work: Work, incident_id: str) -> list[FacilityOut]:
    if incident_id not in work.facilities:
        work.session.flush()
        work.facilities[incident_id] = incident_facilities(work.session, incident_id)
    return work.facilities[incident_id]


def agencies_with_active_shares(work: Work, incident_id: str) -> list[tuple[AgencyRow, ShareRow]]:
    rows = work.session.execute(
        select(AgencyRow, ShareRow)
        .join(ShareRow, ShareRow.agency_id == AgencyRow.id)
        .where(
            ShareRow.incident_id == incident_id, ShareRow.revoked_at.is_(None), ShareRow.expires_at > work.now
        )
        .order_by(ShareRow.created_at)
    ).all()
    return [(a, s) for a, s in rows]


def live_incident(ctx: EngineContext, work: Work, incident: IncidentRow, type_: str, **extra: Any) -> None:
    data = incident_view(ctx, work, incident).model_dump(mode="json")
    data.update(extra)
    work.live(type_, data)

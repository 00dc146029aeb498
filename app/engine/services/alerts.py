"""CAP 1.2 alerts → disaster-response incidents with every camera in the alert area."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.domain.enums import AgencyKind, IncidentStatus, Service
from app.domain.geo import Area, Circle, Polygon, area_centroid
from app.engine.agency_policy import check_cap_alerts
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import ServiceError, forbidden
from app.engine.services import notify
from app.engine.services.intake import (
    NewIncident,
    close_incident,
    open_incident,
    request_result,
    share_agencies,
)
from app.formats.api import RequestResultOut
from app.formats.cap import CapAlert, CapError, alert_summary, parse_cap
from app.store.models import AgencyRow, IncidentRow

_SEVERITY_PRIORITY = {"Extreme": 1, "Severe": 2, "Moderate": 3, "Minor": 4, "Unknown": 3}


def _area_json(area: Area) -> dict[str, Any]:
    if isinstance(area, Circle):
        return {"circle": {"lat": area.center.lat, "lon": area.center.lon, "radius_m": area.radius_m}}
    assert isinstance(area, Polygon)
    return {"polygon": [[p.lat, p.lon] for p in area.points]}


def handle_cap(
    ctx: EngineContext, principal: Principal, client: str | None, data: bytes
) -> tuple[RequestResultOut, bool]:
    if principal.kind != "agency":
        raise forbidden("CAP alerts come from agencies or alerting gateways with an API key")
    check_cap_alerts(ctx.settings.agency_access, principal)
    try:
        alert = parse_cap(data)
    except CapError as exc:
        raise ServiceError(422, "Invalid CAP alert", str(exc)) from exc
    if alert.msg_type in ("Ack", "Error"):
        raise ServiceError(
            422, "Unsupported CAP message", f"msgType {alert.msg_type} carries no alert to act on"
        )
    if alert.status in ("System", "Draft"):
        raise ServiceError(422, "Unsupported CAP message", f"status {alert.status} is not acted on")
    summary = alert_summary(alert)
    with ctx.uow(principal, client) as work:
        existing = work.session.scalars(
            select(IncidentRow).where(
                IncidentRow.agency_id == principal.id, IncidentRow.external_id == alert.identifier
            )
        ).first()
        if existing is not None:
            work.audit("alert.repeat", "incident", existing.id, identifier=alert.identifier)
            return request_result(ctx, work, existing, principal.id), False
        # Update and Cancel refer to earlier alerts by identifier.
        earlier = _referenced(work.session, principal.id, alert)
        if alert.msg_type == "Cancel":
            if earlier is None:
                raise ServiceError(
                    404, "Not Found", "the cancelled alert is unknown (no matching references)"
                )
            if earlier.status != IncidentStatus.CLOSED.value:
                close_incident(ctx, work, earlier, f"CAP cancel {alert.identifier}")
            return request_result(ctx, work, earlier, principal.id), False
        areas = alert.geo_areas()
        if not areas:
            raise ServiceError(
                422, "Invalid CAP alert", "the alert has no <circle> or <polygon> area to select cameras in"
            )
        area = areas[0]  # the first shape drives camera selection; all shapes are kept in details
        info = alert.infos[0]
        agency = work.session.get(AgencyRow, principal.id)
        assert agency is not None
        incident, _ = open_incident(
            ctx,
            work,
            NewIncident(
                service=Service.DISASTER_RESPONSE,
                title=(info.headline or info.event)[:300],
                point=area_centroid(area),
                address=", ".join(a.area_desc for a in info.areas)[:500] or None,
                area=area,
                area_json=_area_json(area),
                priority=_SEVERITY_PRIORITY.get(info.severity, 3),
                exercise=alert.is_drill,
                details={"cap": summary, "areas": [_area_json(a) for a in areas]},
                external_id=alert.identifier[:128],
                agency=agency if agency.kind == AgencyKind.DISASTER.value else None,
                source=f"cap:{alert.identifier}",
                share_with_kinds=(AgencyKind.DISASTER,),
            ),
        )
        if earlier is not None and earlier.status != IncidentStatus.CLOSED.value:
            close_incident(ctx, work, earlier, f"superseded by CAP update {alert.identifier}")
        for target in share_agencies(work, None, (AgencyKind.DISASTER,)):
            notify.send(ctx, work, target, incident, "alert.received", alert=summary)
        work.audit("alert.receive", "incident", incident.id, identifier=alert.identifier, status=alert.status)
        result = request_result(ctx, work, incident, principal.id)
    ctx.prewarm([c.id for c in result.cameras])
    return result, True


def _referenced(session: Any, agency_id: str, alert: CapAlert) -> IncidentRow | None:
    for ref in reversed(alert.references):
        row: IncidentRow | None = session.scalars(
            select(IncidentRow).where(
                IncidentRow.agency_id == agency_id, IncidentRow.external_id == ref.identifier[:128]
            )
        ).first()
        if row is not None:
            return row
    return None

"""CAP 1.2 alerts → disaster-response incidents with every camera in the alert area."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from app.domain.enums import AgencyKind, IncidentStatus, Service
from app.domain.geo import EARTH_RADIUS_M, Area, Circle, GeoPoint, Polygon, area_centroid
from app.domain.selection import select_in_area
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
from app.engine.services.policy import Pick
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
        floor = ctx.settings.cap.min_radius_m
        areas = [
            Circle(a.center, floor) if isinstance(a, Circle) and a.radius_m < floor else a for a in areas
        ]
        shapes = list(dict.fromkeys(areas))  # the same shape repeated in another language's info counts once
        area = shapes[0]  # drawn on the map; selection and the incident's place use every shape
        picks = _union_picks(ctx, shapes)
        info = _preferred_info(alert)
        agency = work.session.get(AgencyRow, principal.id)
        assert agency is not None
        incident, _ = open_incident(
            ctx,
            work,
            NewIncident(
                service=Service.DISASTER_RESPONSE,
                title=(info.headline or info.event)[:300],
                point=_union_centre(shapes),
                address=", ".join(a.area_desc for a in info.areas)[:500] or None,
                area=area,
                area_json=_area_json(area),
                priority=_SEVERITY_PRIORITY.get(info.severity, 3),
                exercise=alert.is_drill,
                details={"cap": summary, "areas": [_area_json(a) for a in shapes]},
                external_id=alert.identifier[:128],
                agency=agency if agency.kind == AgencyKind.DISASTER.value else None,
                source=f"cap:{alert.identifier}",
                share_with_kinds=(AgencyKind.DISASTER,),
            ),
            picks,
        )
        if earlier is not None and earlier.status != IncidentStatus.CLOSED.value:
            close_incident(ctx, work, earlier, f"superseded by CAP update {alert.identifier}")
        for target in share_agencies(work, None, (AgencyKind.DISASTER,)):
            notify.send(ctx, work, target, incident, "alert.received", alert=summary)
        work.audit("alert.receive", "incident", incident.id, identifier=alert.identifier, status=alert.status)
        result = request_result(ctx, work, incident, principal.id)
    ctx.prewarm([c.id for c in result.cameras])
    return result, True


def _shape_weight(shape: Area) -> float:
    """The shape's ground area in square metres (a polygon's in the lon/lat plane, scaled at its latitude)."""
    if isinstance(shape, Circle):
        return math.pi * shape.radius_m * shape.radius_m
    pts = shape.points
    a2 = sum(
        pts[i].lon * pts[(i + 1) % len(pts)].lat - pts[(i + 1) % len(pts)].lon * pts[i].lat
        for i in range(len(pts))
    )
    m_per_deg = EARTH_RADIUS_M * math.pi / 180.0
    return abs(a2) / 2.0 * m_per_deg * m_per_deg * math.cos(math.radians(pts[0].lat))


def _union_centre(shapes: list[Area]) -> GeoPoint:
    """The area-weighted centre of every shape of the alert (a sliver barely moves it)."""
    centres = [area_centroid(s) for s in shapes]
    weights = [_shape_weight(s) for s in shapes]
    total = sum(weights)
    if total <= 0.0:
        weights, total = [1.0] * len(shapes), float(len(shapes))
    lat = sum(c.lat * w for c, w in zip(centres, weights, strict=True)) / total
    lon = sum(c.lon * w for c, w in zip(centres, weights, strict=True)) / total
    return GeoPoint(max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon)))


def _union_picks(ctx: EngineContext, shapes: list[Area]) -> list[Pick]:
    """Every camera in any shape (once), taking turns between the shapes so that a limit keeps each one."""
    index = ctx.cameras.index()
    limit = ctx.settings.selection.area_camera_limit
    ranked = [select_in_area(index, s) for s in shapes]
    out: list[Pick] = []
    seen: set[str] = set()
    depth = 0
    while len(out) < limit and any(depth < len(r) for r in ranked):
        for r in ranked:
            if depth < len(r) and len(out) < limit and r[depth].camera.id not in seen:
                seen.add(r[depth].camera.id)
                out.append(Pick(r[depth], "area"))
        depth += 1
    return out


def _preferred_info(alert: CapAlert) -> Any:
    """The <info> the operators read: Korean, then English, then the first (the others stay in the detail)."""
    for lang in ("ko", "en"):
        for info in alert.infos:
            if info.language.lower().split("-")[0] == lang:
                return info
    return alert.infos[0]


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

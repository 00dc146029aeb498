"""CAP 1.2 alerts → disaster-response incidents with every camera in the alert area."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.enums import AgencyKind, IncidentStatus, Service
from app.domain.geo import EARTH_RADIUS_M, Area, Circle, GeoPoint, Polygon, area_centroid
from app.domain.selection import select_in_area
from app.engine.agency_policy import check_cap_alerts
from app.engine.auth import Principal
from app.engine.cap_signature import verify_cap_signature
from app.engine.context import EngineContext
from app.engine.errors import ServiceError, forbidden
from app.engine.services import notify
from app.engine.services.districts import districts_for_geocodes
from app.engine.services.intake import (
    NewIncident,
    close_incident,
    open_incident,
    request_result,
    share_agencies,
)
from app.engine.services.policy import Pick
from app.engine.work import Work
from app.formats.api import RequestResultOut
from app.formats.cap import CapAlert, CapError, CapInfo, alert_summary, parse_cap
from app.store.models import AgencyRow, CapAlertRow, IncidentRow

_SEVERITY_PRIORITY = {"Extreme": 1, "Severe": 2, "Moderate": 3, "Minor": 4, "Unknown": 3}


def _area_json(area: Area) -> dict[str, Any]:
    if isinstance(area, Circle):
        return {"circle": {"lat": area.center.lat, "lon": area.center.lon, "radius_m": area.radius_m}}
    assert isinstance(area, Polygon)
    return {"polygon": [[p.lat, p.lon] for p in area.points]}


def is_all_clear(alert: CapAlert) -> bool:
    """The danger is over: every ``<info>`` has urgency Past or responseType AllClear."""
    return bool(alert.infos) and all(
        info.urgency == "Past" or "AllClear" in info.response_types for info in alert.infos
    )


@dataclass
class _Selection:
    """Where an alert points, decided before the write transaction: every shape (CAP circles and polygons,
    and the polygons of the districts its geocodes name), each with its holes, and the detail per area."""

    shapes: list[tuple[Area, tuple[Polygon, ...]]] = field(default_factory=list)
    areas: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)


def _ordered_infos(alert: CapAlert) -> list[CapInfo]:
    if not alert.infos:
        return []
    first = _preferred_info(alert)
    return [first, *(i for i in alert.infos if i is not first)]


def _select_areas(ctx: EngineContext, alert: CapAlert) -> _Selection:
    """Every distinct ``<area>`` of the alert (one repeated in another language's info counts once): its
    circles and polygons, else the districts its geocodes name (docs/ENGINE.md, "CAP 1.2")."""
    floor = ctx.settings.cap.min_radius_m
    out = _Selection()
    seen_areas: set[Any] = set()
    seen_shapes: set[Any] = set()
    with ctx.uow.read() as session:
        for info in _ordered_infos(alert):
            for cap_area in info.areas:
                shapes: list[Area] = [
                    Circle(a.center, floor) if isinstance(a, Circle) and a.radius_m < floor else a
                    for a in cap_area.to_geo()
                ]
                key = (
                    (tuple(shapes), cap_area.geocodes) if shapes or cap_area.geocodes else cap_area.area_desc
                )
                if key in seen_areas:
                    continue
                seen_areas.add(key)
                entry: dict[str, Any] = {
                    "desc": cap_area.area_desc,
                    "shapes": [_area_json(a) for a in shapes],
                    "geocodes": [list(g) for g in cap_area.geocodes],
                }
                if shapes:
                    for a in shapes:
                        if a not in seen_shapes:
                            seen_shapes.add(a)
                            out.shapes.append((a, ()))
                elif cap_area.geocodes:
                    match = districts_for_geocodes(
                        session, cap_area.geocodes, ctx.settings.cap.geocode_properties
                    )
                    entry["districts"] = [{"code": d.code, "name": d.name} for d in match.districts]
                    out.unknown.extend(match.unknown)
                    out.ignored.extend(match.ignored)
                    for d in match.districts:
                        for part in d.parts:
                            if part.outer not in seen_shapes:
                                seen_shapes.add(part.outer)
                                out.shapes.append((part.outer, part.holes))
                out.areas.append(entry)
    return out


def _codes(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name}={value}" for name, value in dict.fromkeys(pairs))


def _texts(alert: CapAlert) -> list[dict[str, Any]]:
    """Each language's text, the operator's first (Korean, then English, then the first)."""
    return [
        {
            "language": i.language,
            "event": i.event,
            "headline": i.headline,
            "description": i.description,
            "instruction": i.instruction,
            "sender_name": i.sender_name,
            "web": i.web,
            "urgency": i.urgency,
            "response_types": list(i.response_types),
        }
        for i in _ordered_infos(alert)
    ]


def _known_alert(session: Any, agency_id: str, identifier: str) -> IncidentRow | None:
    """The incident of an alert this agency sent before (recorded by sender, whatever its kind)."""
    row = session.scalars(
        select(CapAlertRow).where(
            CapAlertRow.agency_id == agency_id, CapAlertRow.identifier == identifier[:128]
        )
    ).first()
    if row is not None and row.incident_id is not None:
        found: IncidentRow | None = session.get(IncidentRow, row.incident_id)
        if found is not None:
            return found
    # Alerts recorded before the cap_alerts table existed: a disaster room's own incident.
    legacy: IncidentRow | None = session.scalars(
        select(IncidentRow).where(
            IncidentRow.agency_id == agency_id, IncidentRow.external_id == identifier[:128]
        )
    ).first()
    return legacy


def _record(
    work: Work,
    agency_id: str,
    alert: CapAlert,
    incident: IncidentRow | None,
    *,
    all_clear: bool,
    signed: bool,
) -> None:
    work.session.add(
        CapAlertRow(
            agency_id=agency_id,
            identifier=alert.identifier[:128],
            sender=alert.sender[:200],
            msg_type=alert.msg_type,
            all_clear=all_clear,
            signed=signed,
            incident_id=None if incident is None else incident.id,
            received_at=work.now,
        )
    )
    work.session.flush()  # a concurrent twin fails here (unique agency, identifier) and is retried


def handle_cap(
    ctx: EngineContext, principal: Principal, client: str | None, data: bytes
) -> tuple[RequestResultOut, bool]:
    if principal.kind != "agency":
        raise forbidden("CAP alerts come from agencies or alerting gateways with an API key")
    check_cap_alerts(ctx.settings.agency_access, principal)
    try:
        alert = parse_cap(data)
    except CapError as exc:
        if not exc.detail.startswith("CAP message "):  # parsed safely (defusedxml), only not valid CAP
            # Well-formed and harmless but not a valid alert: from an agency that must sign, a broken or
            # missing signature is the reason to give (a changed byte can also break the CAP).
            verify_cap_signature(ctx.settings.cap, principal.id, data, principal.name)
        raise ServiceError(422, "Invalid CAP alert", str(exc)) from exc
    signed_xml = verify_cap_signature(ctx.settings.cap, principal.id, data, principal.name)
    if signed_xml is not None:
        # Act only on what the signature covers.
        try:
            alert = parse_cap(signed_xml)
        except CapError as exc:
            raise ServiceError(422, "Invalid CAP alert", f"the signed alert: {exc}") from exc
    if alert.msg_type in ("Ack", "Error"):
        raise ServiceError(
            422, "Unsupported CAP message", f"msgType {alert.msg_type} carries no alert to act on"
        )
    if alert.status in ("System", "Draft"):
        raise ServiceError(422, "Unsupported CAP message", f"status {alert.status} is not acted on")
    all_clear = alert.msg_type != "Cancel" and is_all_clear(alert)
    # Districts and cameras are chosen before the write transaction (nothing slow under the writer).
    selection = _select_areas(ctx, alert)
    if alert.msg_type != "Cancel" and not all_clear and not selection.shapes:
        if selection.unknown:
            raise ServiceError(
                422,
                "Invalid CAP alert",
                f"no known district has the alert's geocodes ({_codes(selection.unknown)}); import the "
                "districts ('districts import') or send a <circle> or <polygon>",
            )
        ignored = (
            f" (geocodes {_codes(selection.ignored)} are not mapped to districts)"
            if selection.ignored
            else ""
        )
        raise ServiceError(
            422,
            "Invalid CAP alert",
            f"the alert has no <circle> or <polygon> area and no 행정구역코드 geocode to select cameras in{ignored}",
        )
    picks = _union_picks(ctx, selection.shapes) if selection.shapes and not all_clear else []
    for attempt in range(2):
        try:
            result, created = _apply(ctx, principal, client, alert, selection, picks, all_clear, signed_xml)
        except IntegrityError:
            if attempt:  # two engines took the same (agency, identifier) at once: the loser re-reads
                raise
            continue
        if created:
            ctx.prewarm([c.id for c in result.cameras])
        return result, created
    raise AssertionError("unreachable")


def _apply(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    alert: CapAlert,
    selection: _Selection,
    picks: list[Pick],
    all_clear: bool,
    signed_xml: bytes | None,
) -> tuple[RequestResultOut, bool]:
    summary = alert_summary(alert)
    signed = signed_xml is not None
    with ctx.uow(principal, client) as work:
        existing = _known_alert(work.session, principal.id, alert.identifier)
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
            _record(work, principal.id, alert, earlier, all_clear=False, signed=signed)
            return request_result(ctx, work, earlier, principal.id), False
        info = _preferred_info(alert)
        if all_clear and earlier is not None:
            # The danger is over: no new incident, no video; the alert's incident is marked (and closed
            # when the settings say so).
            earlier.details = {
                **(earlier.details or {}),
                "all_clear": {
                    "identifier": alert.identifier,
                    "sent": summary["sent"],
                    "headline": info.headline,
                },
            }
            earlier.updated_at = work.now
            work.timeline(earlier.id, "alert.all_clear", identifier=alert.identifier, headline=info.headline)
            work.audit("alert.all_clear", "incident", earlier.id, identifier=alert.identifier)
            if ctx.settings.cap.close_on_all_clear and earlier.status != IncidentStatus.CLOSED.value:
                close_incident(ctx, work, earlier, f"CAP all-clear {alert.identifier}")
            else:
                notify.live_incident(ctx, work, earlier, "incident.updated")
            _record(work, principal.id, alert, earlier, all_clear=True, signed=signed)
            return request_result(ctx, work, earlier, principal.id), False
        shapes = [s for s, _ in selection.shapes]
        agency = work.session.get(AgencyRow, principal.id)
        assert agency is not None
        details: dict[str, Any] = {
            "cap": summary,
            "areas": selection.areas,
            "description": info.description,
            "instruction": info.instruction,
            "languages": _texts(alert),
            "signed": signed,
        }
        if selection.unknown:
            details["unknown_geocodes"] = [list(g) for g in dict.fromkeys(selection.unknown)]
        if all_clear:
            details["all_clear"] = {"identifier": alert.identifier, "sent": summary["sent"], "known": False}
        area = shapes[0] if shapes else None  # drawn on the map; selection and the place use every shape
        point = _union_centre(shapes) if shapes else _first_point(alert)
        if point is None:
            point = GeoPoint(0.0, 0.0)
            details["no_location"] = True
        incident, _ = open_incident(
            ctx,
            work,
            NewIncident(
                service=Service.DISASTER_RESPONSE,
                title=(info.headline or info.event)[:300],
                point=point,
                address=", ".join(a.area_desc for a in info.areas)[:500] or None,
                area=area,
                area_json=None if area is None else _area_json(area),
                priority=5 if all_clear else _SEVERITY_PRIORITY.get(info.severity, 3),
                exercise=alert.is_drill,
                details=details,
                external_id=alert.identifier[:128],
                # Only a disaster room is the incident's own agency: another kind that may post CAP
                # (settings) gets no disaster video through it; cap_alerts keeps who sent it.
                agency=agency if agency.kind == AgencyKind.DISASTER.value else None,
                source=f"cap:{alert.identifier}"[:200],
                share_with_kinds=() if all_clear else (AgencyKind.DISASTER,),
            ),
            picks,
        )
        _record(work, principal.id, alert, incident, all_clear=all_clear, signed=signed)
        if all_clear:
            work.audit("alert.all_clear", "incident", incident.id, identifier=alert.identifier, known=False)
        else:
            if earlier is not None and earlier.status != IncidentStatus.CLOSED.value:
                close_incident(ctx, work, earlier, f"superseded by CAP update {alert.identifier}")
            for target in share_agencies(work, None, (AgencyKind.DISASTER,)):
                notify.send(ctx, work, target, incident, "alert.received", alert=summary)
        work.audit(
            "alert.receive",
            "incident",
            incident.id,
            identifier=alert.identifier,
            status=alert.status,
            signed=signed,
        )
        return request_result(ctx, work, incident, principal.id), True


def _first_point(alert: CapAlert) -> GeoPoint | None:
    """Where an all-clear without a usable area is: its first shape's centre, if it has one."""
    for a in alert.geo_areas():
        return area_centroid(a)
    return None


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


def _union_picks(ctx: EngineContext, shapes: list[tuple[Area, tuple[Polygon, ...]]]) -> list[Pick]:
    """Every camera in any shape (once; not in a district's hole), taking turns between the shapes so that
    a limit keeps each one."""
    index = ctx.cameras.index()
    limit = ctx.settings.selection.area_camera_limit
    ranked = []
    for shape, holes in shapes:
        chosen = select_in_area(index, shape)
        if holes:
            chosen = [
                c for c in chosen if not any(h.contains(GeoPoint(c.camera.lat, c.camera.lon)) for h in holes)
            ]
        ranked.append(chosen)
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


def _preferred_info(alert: CapAlert) -> CapInfo:
    """The <info> the operators read: Korean, then English, then the first (the others stay in the detail)."""
    for lang in ("ko", "en"):
        for info in alert.infos:
            if info.language.lower().split("-")[0] == lang:
                return info
    return alert.infos[0]


def _referenced(session: Any, agency_id: str, alert: CapAlert) -> IncidentRow | None:
    for ref in reversed(alert.references):
        row = _known_alert(session, agency_id, ref.identifier)
        if row is not None:
            return row
    return None

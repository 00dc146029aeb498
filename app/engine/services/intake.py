"""From an agency's request to an incident: cameras chosen, shares made, deliveries queued, in one transaction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.domain.enums import AgencyKind, IncidentStatus, Service, ShareStatus
from app.domain.geo import Area, Circle, GeoPoint, Polygon, distance_m
from app.domain.ids import new_id
from app.engine.agency_policy import camera_cap, check_service
from app.engine.agency_views import public_incident
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import ServiceError, conflict, forbidden, not_found
from app.engine.services import notify
from app.engine.services.policy import Pick
from app.engine.services.registry import POLICIES
from app.engine.services.shares import open_share
from app.engine.views import incident_out, share_out
from app.engine.work import Work, table
from app.formats.api import AreaIn, CameraOut, FacilityOut, RequestIn, RequestResultOut, RequestUpdateIn
from app.store.driver_sql import DriverInsert
from app.store.models import (
    AgencyRow,
    FacilityRow,
    IncidentCameraRow,
    IncidentFacilityRow,
    IncidentRow,
    ShareRow,
    TrackPointRow,
)
from app.store.retry import retry_after_disconnect

# Intake's statements, built once (issue 17): plain Core on the unit's connection, cache keys memoised. A new
# incident's rows are built as dicts and written with one statement per table: no ORM flush on the path.
_INSERT_INCIDENT = DriverInsert(table(IncidentRow))
_INSERT_CAMERAS = DriverInsert(table(IncidentCameraRow))
_INSERT_FACILITIES = DriverInsert(table(IncidentFacilityRow))
_INSERT_TRACK = DriverInsert(table(TrackPointRow))
_FACILITIES_NEAR = select(
    FacilityRow.id, FacilityRow.name, FacilityRow.kind, FacilityRow.lat, FacilityRow.lon, FacilityRow.notes
).where(
    FacilityRow.lat.between(bindparam("lat0"), bindparam("lat1")),
    FacilityRow.lon.between(bindparam("lon0"), bindparam("lon1")),
)
_AGENCY_COLUMNS = tuple(table(AgencyRow).c)
# The calling agency and the incident its external_id already names (if any), in one statement.
_AGENCY_AND_REQUEST = select(
    *_AGENCY_COLUMNS,
    select(IncidentRow.id)
    .where(IncidentRow.agency_id == bindparam("id"), IncidentRow.external_id == bindparam("external_id"))
    .scalar_subquery(),
).where(table(AgencyRow).c.id == bindparam("id"))


@dataclass(frozen=True)
class NewIncident:
    """What any intake (agency request, CAP alert, sensor) asks for."""

    service: Service
    title: str
    point: GeoPoint
    address: str | None
    area: Area | None
    area_json: dict[str, Any] | None
    priority: int
    exercise: bool
    details: dict[str, Any]
    external_id: str | None
    agency: AgencyRow | None  # the requester, who gets a share
    source: str
    share_with_kinds: tuple[AgencyKind, ...] = ()


def area_from_api(area: AreaIn | None) -> tuple[Area | None, dict[str, Any] | None]:
    if area is None:
        return None, None
    if area.circle is not None:
        c = area.circle
        return Circle(GeoPoint(c.lat, c.lon), c.radius_m), {
            "circle": {"lat": c.lat, "lon": c.lon, "radius_m": c.radius_m}
        }
    assert area.polygon is not None
    pts = tuple(GeoPoint(lat, lon) for lat, lon in area.polygon)
    try:
        poly = Polygon(pts)
    except ValueError as exc:
        raise ServiceError(422, "Unprocessable Content", f"area.polygon: {exc}") from exc
    return poly, {"polygon": [[p.lat, p.lon] for p in pts]}


def area_from_json(area: dict[str, Any] | None) -> Area | None:
    """The stored form (``{"circle": …}`` / ``{"polygon": …}``) back to a domain area."""
    if not area:
        return None
    if "circle" in area:
        c = area["circle"]
        return Circle(GeoPoint(c["lat"], c["lon"]), c["radius_m"])
    return Polygon(tuple(GeoPoint(lat, lon) for lat, lon in area["polygon"]))


def choose_cameras(ctx: EngineContext, service: Service, point: GeoPoint, area: Area | None) -> list[Pick]:
    return POLICIES[service].choose(ctx.cameras.index(), point, area, ctx.settings.selection)


def _store_cameras(
    ctx: EngineContext, work: Work, incident_id: str, picks: list[Pick], *, fresh: bool = False
) -> None:
    if not fresh:
        work.session.execute(delete(IncidentCameraRow).where(IncidentCameraRow.incident_id == incident_id))
    if picks:
        _INSERT_CAMERAS(
            work.connection(),
            [
                {
                    "incident_id": incident_id,
                    "camera_id": p.chosen.camera.id,
                    "role": p.role,
                    "rank": rank,
                    "distance_m": p.chosen.distance_m,
                    "covers_point": p.chosen.covers_point,
                }
                for rank, p in enumerate(picks)
            ],
        )
    online = ctx.cameras.online
    work.cameras[incident_id] = [
        CameraOut(
            id=c.id,
            name=c.name,
            lat=c.lat,
            lon=c.lon,
            purpose=c.purpose,
            direction_deg=c.direction_deg,
            fov_deg=c.fov_deg,
            online=online.get(c.id, True),
            distance_m=round(p.chosen.distance_m, 1),
            covers_point=p.chosen.covers_point,
            role=p.role,
        )
        for p in picks
        for c in (p.chosen.camera,)
    ]


def _store_facilities(
    ctx: EngineContext, work: Work, incident_id: str, point: GeoPoint, *, fresh: bool = False
) -> int:
    radius = ctx.settings.selection.facility_radius_m
    # Facilities are few (hundreds): a bounding-box prefilter in SQL, exact distance here.
    dlat = radius / 111_000.0
    dlon = dlat / max(0.1, abs(math.cos(math.radians(point.lat))))
    work.session.flush()  # facilities added earlier in this unit count
    rows = (
        work.connection()
        .execute(
            _FACILITIES_NEAR,
            {
                "lat0": point.lat - dlat,
                "lat1": point.lat + dlat,
                "lon0": point.lon - dlon,
                "lon1": point.lon + dlon,
            },
        )
        .all()
    )
    if not fresh:
        work.session.execute(
            delete(IncidentFacilityRow).where(IncidentFacilityRow.incident_id == incident_id)
        )
    near = sorted(
        ((d, f) for f in rows if (d := distance_m(point, GeoPoint(f.lat, f.lon))) <= radius),
        key=lambda x: (x[0], x[1].id),
    )
    if near:
        _INSERT_FACILITIES(
            work.connection(),
            [{"incident_id": incident_id, "facility_id": f.id, "distance_m": d} for d, f in near],
        )
    work.facilities[incident_id] = [
        FacilityOut(
            id=f.id, name=f.name, kind=f.kind, lat=f.lat, lon=f.lon, notes=f.notes, distance_m=round(d, 1)
        )
        for d, f in near
    ]
    return len(near)


def share_agencies(work: Work, requester: AgencyRow | None, kinds: tuple[AgencyKind, ...]) -> list[AgencyRow]:
    out: list[AgencyRow] = [] if requester is None else [requester]
    if kinds:
        for a in work.session.scalars(
            select(AgencyRow)
            .where(AgencyRow.kind.in_([k.value for k in kinds]), AgencyRow.enabled.is_(True))
            .order_by(AgencyRow.created_at)
        ):
            if all(a.id != b.id for b in out):
                out.append(a)
    return out


def open_incident(
    ctx: EngineContext, work: Work, req: NewIncident, picks: list[Pick] | None = None
) -> tuple[IncidentRow, list[ShareRow]]:
    """Create the incident with everything that comes with it, in ``work``'s transaction.

    ``picks`` may be chosen before the transaction opens (pure, in memory) to keep the write lock short.
    """
    policy = POLICIES[req.service]
    values: dict[str, Any] = {
        "id": new_id("INC"),
        "service": req.service.value,
        "status": IncidentStatus.NEW.value,
        "title": req.title,
        "priority": req.priority,
        "exercise": req.exercise,
        "lat": req.point.lat,
        "lon": req.point.lon,
        "address": req.address,
        "area": req.area_json,
        "external_id": req.external_id,
        "agency_id": None if req.agency is None else req.agency.id,
        "source": req.source,
        "assignee": None,
        "details": req.details,
        "units": [],
        "created_at": work.now,
        "updated_at": work.now,
        "acknowledged_at": None,
        "closed_at": None,
    }
    # One Core statement; the caller gets a detached row object built from the same values (what the ORM
    # held after its flush), for the views, the payloads and the answer.
    if work.session.new:
        work.session.flush()  # e.g. an agency added earlier in this unit, which the incident refers to
    _INSERT_INCIDENT(work.connection(), values)
    incident = IncidentRow(**values)
    work.new_incident(incident.id)
    work.new_views[incident.id] = (incident, incident_out(incident, ctx.golden_time(req.service.value)))
    if req.agency is not None:
        work.agency_names[req.agency.id] = req.agency.name
    if picks is None:
        picks = choose_cameras(ctx, req.service, req.point, req.area)
    _store_cameras(ctx, work, incident.id, picks, fresh=True)
    if policy.tracks_location:
        _INSERT_TRACK(
            work.connection(),
            {"incident_id": incident.id, "lat": req.point.lat, "lon": req.point.lon, "at": work.now},
        )
    if policy.wants_facilities:
        n_fac = _store_facilities(ctx, work, incident.id, req.point, fresh=True)
    else:
        n_fac, work.facilities[incident.id] = 0, []
    camera_ids = [p.chosen.camera.id for p in picks]
    work.timeline(incident.id, "created", source=req.source, service=req.service.value, exercise=req.exercise)
    work.timeline(incident.id, "cameras.selected", cameras=camera_ids, facilities=n_fac)
    work.audit(
        "incident.create",
        "incident",
        incident.id,
        service=req.service.value,
        source=req.source,
        exercise=req.exercise,
    )
    notify.live_incident(ctx, work, incident, "incident.created", camera_ids=camera_ids)
    shares: list[ShareRow] = []
    # Drills share no real video unless the settings allow it (settings.provision.drill_real_video).
    if camera_ids and (not req.exercise or ctx.settings.provision.drill_real_video):
        for agency in share_agencies(work, req.agency, policy.also_share_with + req.share_with_kinds):
            # Up to the agency's automatic cap the share is active at once; above it the incident still
            # opens, but the share (with every chosen camera) waits for an operator to confirm it in the
            # console (approval ``confirm``): its media refuses and the agency is told nothing until then.
            cap = camera_cap(ctx.settings.agency_access, agency.id)
            over_cap = len(camera_ids) > cap
            share = open_share(
                ctx,
                work,
                incident,
                agency,
                camera_ids,
                ctx.settings.share_minutes,
                f"{req.service.value}: {req.title}",
                legal_basis=ctx.settings.provision.basis_for_service(req.service),
                requesting_agency_id=None if req.agency is None else req.agency.id,
                approval="confirm" if over_cap else "auto",
            )
            if over_cap:
                work.timeline(
                    incident.id,
                    "share.over_cap",
                    share_id=share.id,
                    agency=agency.name,
                    chosen=len(camera_ids),
                    cap=cap,
                )
            shares.append(share)
    return incident, shares


def request_result(
    ctx: EngineContext,
    work: Work,
    incident: IncidentRow,
    agency_id: str | None,
    shares: list[ShareRow] | None = None,
) -> RequestResultOut:
    """The answer to an intake: the incident, its cameras and facilities, and the caller's shares
    (``shares`` when this transaction made them, else read from the store)."""
    if shares is None and incident.id in work.new_views:
        shares = list(work.new_shares.get(incident.id, []))  # made in this unit: nothing to read back
    if shares is None:
        q = select(ShareRow).where(ShareRow.incident_id == incident.id).order_by(ShareRow.created_at)
        shares = list(work.session.scalars(q))
    if agency_id is not None:
        shares = [s for s in shares if s.agency_id == agency_id]
    inc = notify.incident_view(ctx, work, incident)
    views = [share_out(s, work.now, ctx.media_url, ctx.viewer_url, token=ctx.share_token) for s in shares]
    notes = [
        f"share {v.id} holds {len(v.camera_ids)} cameras, above this agency's automatic cap of "
        f"{camera_cap(ctx.settings.agency_access, v.agency_id)}: it awaits an operator's confirmation in the "
        "control room; its video opens and share.created is delivered once confirmed"
        for v in views
        if v.approval == "confirm" and v.status is ShareStatus.PENDING
    ]
    return RequestResultOut(
        incident=inc if agency_id is None else public_incident(inc, agency_id),
        cameras=notify.cameras_of(work, incident.id),
        shares=views,
        facilities=notify.facilities_of(work, incident.id),
        notes=notes,
    )


def handle_request(
    ctx: EngineContext, principal: Principal, client: str | None, body: RequestIn
) -> tuple[RequestResultOut, bool]:
    """``POST /api/v1/requests``. Returns (result, created); a repeat of (agency, external_id) is not new."""
    if principal.kind != "agency":
        raise forbidden("linked-service requests come from agencies with an API key")
    check_service(ctx.settings.agency_access, principal, body.service)
    area, area_json = area_from_api(body.area)
    # Choosing cameras is pure and in memory: do it before the transaction takes the write lock.
    picks = choose_cameras(ctx, body.service, GeoPoint(body.location.lat, body.location.lon), area)
    collided, disconnects = False, 0
    while True:
        try:
            with ctx.uow(principal, client) as work:
                seen = (
                    work.connection()
                    .execute(_AGENCY_AND_REQUEST, {"id": principal.id, "external_id": body.external_id})
                    .first()
                )
                found = None if seen is None else seen[-1]
                existing = None if found is None else work.session.get(IncidentRow, found)
                if existing is not None:
                    if existing.service != body.service.value:
                        raise conflict(
                            f"external_id {body.external_id!r} is already used for a {existing.service} request"
                        )
                    work.audit("request.repeat", "incident", existing.id, external_id=body.external_id)
                    return request_result(ctx, work, existing, principal.id), False
                # The agency as a detached row read with one Core statement (nothing of it is changed here).
                assert seen is not None
                agency = AgencyRow(**{c.key: v for c, v in zip(_AGENCY_COLUMNS, seen[:-1], strict=True)})
                incident, shares = open_incident(
                    ctx,
                    work,
                    NewIncident(
                        service=body.service,
                        title=body.title,
                        point=GeoPoint(body.location.lat, body.location.lon),
                        address=body.location.address,
                        area=area,
                        area_json=area_json,
                        priority=body.priority,
                        exercise=body.exercise,
                        details=body.details or {},
                        external_id=body.external_id,
                        agency=agency,
                        source=f"agency:{agency.id}",
                    ),
                    picks,
                )
                result = request_result(ctx, work, incident, principal.id, shares)
            ctx.prewarm([c.id for c in result.cameras])
            return result, True
        except IntegrityError:
            # Two engines (PostgreSQL) took the same (agency, external_id) at once: the loser re-reads.
            if collided:
                raise
            collided = True
        except DBAPIError as exc:
            # The database connection failed before this was acknowledged (PostgreSQL restarted): run it
            # again — a commit that did land is found by its external_id (app/store/retry.py). SQLite is a
            # file of this process: nothing to reconnect to.
            if ctx.uow.db.is_sqlite or not retry_after_disconnect(exc, disconnects):
                raise
            disconnects += 1


def apply_location(
    ctx: EngineContext,
    work: Work,
    incident: IncidentRow,
    point: GeoPoint,
    address: str | None,
    picks: list[Pick] | None = None,
) -> None:
    """A new position (moving person or suspect): re-select cameras; every active share follows.

    ``picks``: the cameras for ``point``, chosen before the transaction (pure, in memory: the writer is not
    held for it); chosen here when the incident's service or area changed since."""
    service = Service(incident.service)
    incident.lat, incident.lon = point.lat, point.lon
    if address is not None:
        incident.address = address
    if POLICIES[service].tracks_location:
        work.session.add(TrackPointRow(incident_id=incident.id, lat=point.lat, lon=point.lon, at=work.now))
    # An alert area stays what it was; only the point moved.
    if picks is None:
        picks = choose_cameras(ctx, service, point, area_from_json(incident.area))
    _store_cameras(ctx, work, incident.id, picks)
    if POLICIES[service].wants_facilities:
        _store_facilities(ctx, work, incident.id, point)
    camera_ids = [p.chosen.camera.id for p in picks]
    work.timeline(incident.id, "location.updated", lat=point.lat, lon=point.lon, cameras=camera_ids)
    for agency, share in notify.agencies_with_active_shares(work, incident.id):
        follow = camera_ids[: camera_cap(ctx.settings.agency_access, agency.id)]
        if follow and list(share.camera_ids) != follow:
            share.camera_ids = follow
            notify.send(ctx, work, agency, incident, "share.updated", share=share)
        else:
            notify.send(ctx, work, agency, incident, "incident.updated")
    ctx.prewarm(camera_ids)


def close_incident(ctx: EngineContext, work: Work, incident: IncidentRow, reason: str) -> None:
    """Close, end every share (access ends with the emergency) and tell each agency once."""
    incident.status = IncidentStatus.CLOSED.value
    incident.closed_at = work.now
    incident.updated_at = work.now
    for agency, share in notify.agencies_with_active_shares(work, incident.id):
        share.revoked_at = work.now
        notify.send(ctx, work, agency, incident, "incident.closed", share=share, note=reason)
    work.timeline(incident.id, "closed", reason=reason)
    work.audit("incident.close", "incident", incident.id, reason=reason)
    notify.live_incident(ctx, work, incident, "incident.closed")


def handle_update(
    ctx: EngineContext, principal: Principal, client: str | None, external_id: str, body: RequestUpdateIn
) -> RequestResultOut:
    if principal.kind != "agency":
        raise forbidden("request updates come from the agency that made the request")
    picks: list[Pick] | None = None
    chosen_for: tuple[str, Any] | None = None
    if body.location is not None:
        # Choose the cameras before taking the writer (issue 17), from what a reader sees of the incident.
        with ctx.uow.read() as s:
            seen = s.execute(
                select(IncidentRow.service, IncidentRow.area).where(
                    IncidentRow.agency_id == principal.id, IncidentRow.external_id == external_id
                )
            ).first()
        if seen is not None:
            chosen_for = (seen[0], seen[1])
            picks = choose_cameras(
                ctx, Service(seen[0]), GeoPoint(body.location.lat, body.location.lon), area_from_json(seen[1])
            )
    with ctx.uow(principal, client) as work:
        incident = work.session.scalars(
            select(IncidentRow)
            .where(IncidentRow.agency_id == principal.id, IncidentRow.external_id == external_id)
            .with_for_update()
        ).first()
        if incident is None:
            raise not_found("request", external_id)
        if incident.status == IncidentStatus.CLOSED.value:
            raise conflict(f"request {external_id!r} is closed")
        incident.updated_at = work.now
        work.audit(
            "request.update", "incident", incident.id, fields=sorted(body.model_dump(exclude_none=True))
        )
        if body.location is not None:
            apply_location(
                ctx,
                work,
                incident,
                GeoPoint(body.location.lat, body.location.lon),
                body.location.address,
                picks if chosen_for == (incident.service, incident.area) else None,
            )
        if body.units is not None:
            incident.units = list(body.units)
            work.timeline(incident.id, "units.dispatched", units=list(body.units))
        if body.note is not None:
            work.timeline(incident.id, "note", text=body.note)
        if body.closed:
            close_incident(ctx, work, incident, "closed by the requesting agency")
        elif body.location is None:
            for agency, _ in notify.agencies_with_active_shares(work, incident.id):
                notify.send(ctx, work, agency, incident, "incident.updated", note=body.note)
            notify.live_incident(ctx, work, incident, "incident.updated")
        else:
            notify.live_incident(ctx, work, incident, "incident.updated")
        return request_result(ctx, work, incident, principal.id)

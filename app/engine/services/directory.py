"""Agencies, users, cameras, facilities and sensors: the engine's directory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, DeliveryFormat, DeliveryState, Role
from app.domain.geo import GeoPoint
from app.domain.ids import new_id
from app.domain.layers import Facility, Sensor
from app.domain.stream_url import check_stream_url
from app.engine.auth import Principal, digest, hash_password, new_api_key
from app.engine.context import EngineContext
from app.engine.errors import conflict, forbidden, invalid, not_found
from app.engine.outbox.egress import check_url
from app.engine.services import agency_admin
from app.engine.services.camera_register import upsert_cameras as bulk_upsert
from app.engine.settings import OutboxSettings
from app.engine.views import camera_out
from app.engine.work import Work
from app.formats.api import AgencyCreatedOut, AgencyHealthOut, AgencyIn, AgencyOut, AgencyPatchIn, CameraOut
from app.formats.webhooks import new_secret
from app.store.models import AgencyRow, CameraRow, DeliveryRow, FacilityRow, SensorRow, UserRow

SECRET_OVERLAP = timedelta(hours=24)


def check_endpoint(url: str, outbox: OutboxSettings) -> str:
    """An agency endpoint must be an absolute http(s) URL without credentials, on an allowed host."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise invalid(f"endpoint is not a URL: {exc}") from exc
    if parts.scheme not in outbox.allowed_schemes:
        raise invalid(
            f"endpoint scheme {parts.scheme!r} is not allowed (allowed: {', '.join(outbox.allowed_schemes)})"
        )
    if not parts.hostname:
        raise invalid("endpoint has no host")
    if parts.username or parts.password:
        raise invalid("endpoint must not carry credentials; the webhook signature authenticates us")
    if outbox.allowed_hosts is not None and parts.hostname.lower() not in {
        h.lower() for h in outbox.allowed_hosts
    }:
        raise invalid(f"endpoint host {parts.hostname!r} is not in the deployment's allow-list")
    why = check_url(url, allow_http=outbox.allow_http, allowed_networks=outbox.allowed_networks)
    if why:
        raise invalid(f"endpoint refused: {why}")
    return url


def create_agency(
    session: Session, body: AgencyIn, outbox: OutboxSettings, now_: datetime
) -> AgencyCreatedOut:
    check_endpoint(body.endpoint, outbox)
    key = new_api_key()
    secret = new_secret()
    row = AgencyRow(
        id=new_id("agn"),
        name=body.name,
        kind=body.kind.value,
        format=body.format.value,
        endpoint=body.endpoint,
        enabled=True,
        disabled_reason=None,
        api_key_hash=digest(key),
        webhook_secret=secret,
        webhook_secret_previous=None,
        previous_secret_until=None,
        created_at=now_,
    )
    session.add(row)
    return AgencyCreatedOut(id=row.id, api_key=key, webhook_secret=secret)


def agency_health(
    session: Session, agencies: Iterable[AgencyRow], now_: datetime
) -> dict[str, AgencyHealthOut]:
    agencies = list(agencies)
    ids = [a.id for a in agencies]
    open_states = [DeliveryState.PENDING.value, DeliveryState.RETRYING.value]
    depth = dict(
        session.execute(
            select(DeliveryRow.agency_id, func.count())
            .where(DeliveryRow.agency_id.in_(ids), DeliveryRow.state.in_(open_states))
            .group_by(DeliveryRow.agency_id)
        ).all()
    )
    oldest = dict(
        session.execute(
            select(DeliveryRow.agency_id, func.min(DeliveryRow.created_at))
            .where(DeliveryRow.agency_id.in_(ids), DeliveryRow.state.in_(open_states))
            .group_by(DeliveryRow.agency_id)
        ).all()
    )
    dead = dict(
        session.execute(
            select(DeliveryRow.agency_id, func.count())
            .where(DeliveryRow.agency_id.in_(ids), DeliveryRow.state == DeliveryState.DEAD.value)
            .group_by(DeliveryRow.agency_id)
        ).all()
    )
    last_ok = dict(
        session.execute(
            select(DeliveryRow.agency_id, func.max(DeliveryRow.delivered_at))
            .where(DeliveryRow.agency_id.in_(ids), DeliveryRow.state == DeliveryState.DELIVERED.value)
            .group_by(DeliveryRow.agency_id)
        ).all()
    )
    out: dict[str, AgencyHealthOut] = {}
    for a in agencies:
        # Consecutive failures: open deliveries that have been tried and failed, newest streak.
        failures = session.scalar(
            select(func.coalesce(func.max(DeliveryRow.attempts), 0)).where(
                DeliveryRow.agency_id == a.id, DeliveryRow.state == DeliveryState.RETRYING.value
            )
        )
        old = oldest.get(a.id)
        n_fail = int(failures or 0)
        state: Literal["ok", "failing", "disabled", "idle"]
        if not a.enabled:
            state = "disabled"
        elif n_fail > 0 or dead.get(a.id):
            state = "failing"
        else:
            state = "ok" if last_ok.get(a.id) else "idle"
        out[a.id] = AgencyHealthOut(
            state=state,
            last_success_at=last_ok.get(a.id),
            consecutive_failures=n_fail,
            queue_depth=int(depth.get(a.id, 0)),
            dead_letters=int(dead.get(a.id, 0)),
            oldest_undelivered_age_s=None if old is None else max(0.0, (now_ - old).total_seconds()),
        )
    return out


def agency_health_of(
    session: Session, agency_ids: Iterable[str], now_: datetime
) -> dict[str, dict[str, Any]]:
    """The health of these agencies as JSON (for live events), from the same queries as the agency list."""
    ids = sorted(set(agency_ids))
    if not ids:
        return {}
    rows = session.scalars(select(AgencyRow).where(AgencyRow.id.in_(ids))).all()
    return {a: h.model_dump(mode="json") for a, h in agency_health(session, rows, now_).items()}


def agency_out(row: AgencyRow, health: AgencyHealthOut | None) -> AgencyOut:
    return AgencyOut(
        id=row.id,
        name=row.name,
        kind=AgencyKind(row.kind),
        format=DeliveryFormat(row.format),
        endpoint=row.endpoint,
        enabled=row.enabled,
        health=health,
    )


def list_agencies(ctx: EngineContext, principal: Principal, client: str | None) -> list[AgencyOut]:
    with ctx.uow.reading(principal, client) as work:
        q = select(AgencyRow).order_by(AgencyRow.created_at)
        if principal.kind == "agency":
            q = q.where(AgencyRow.id == principal.id)
        rows = work.session.scalars(q).all()
        health = agency_health(work.session, rows, work.now)
        return [agency_out(r, health[r.id]) for r in rows]


def _require_admin(principal: Principal) -> None:
    if not principal.has_role(Role.ADMIN):
        raise forbidden("this needs the admin role")


def api_create_agency(
    ctx: EngineContext, principal: Principal, client: str | None, body: AgencyIn
) -> AgencyCreatedOut:
    _require_admin(principal)
    with ctx.uow(principal, client) as work:
        created = create_agency(work.session, body, ctx.settings.outbox, work.now)
        work.audit(
            "agency.create",
            "agency",
            created.id,
            name=body.name,
            kind=body.kind.value,
            endpoint=body.endpoint,
        )
        work.live("agency.created", {"agency_id": created.id})
        return created


def api_patch_agency(
    ctx: EngineContext, principal: Principal, client: str | None, agency_id: str, body: AgencyPatchIn
) -> tuple[AgencyOut, str | None]:
    """Returns the agency and, when rotated, the new webhook secret (shown once)."""
    _require_admin(principal)
    with ctx.uow(principal, client) as work:
        row = work.session.get(AgencyRow, agency_id)
        if row is None:
            raise not_found("agency", agency_id)
        changed = body.model_dump(exclude_none=True, exclude={"rotate_secret"})
        if body.endpoint is not None:
            row.endpoint = check_endpoint(body.endpoint, ctx.settings.outbox)
        if body.name is not None:
            row.name = body.name
        if body.format is not None:
            row.format = body.format.value
        if body.enabled is not None:
            # Disabling revokes its shares (cutting its streams) and holds its deliveries.
            agency_admin.set_enabled(ctx, work, row, body.enabled)
        new = None
        if body.rotate_secret:
            # Both secrets sign for a day, so the agency can switch without losing a delivery.
            new = agency_admin.rotate_secret(work, row)
            changed["rotate_secret"] = True
        work.audit("agency.update", "agency", row.id, **{k: str(v) for k, v in changed.items()})
        work.live("agency.updated", {"agency_id": row.id})
        work.session.info["outbox"] = True  # re-enabled agencies get their backlog at once
        health = agency_health(work.session, [row], work.now)[row.id]
        out = agency_out(row, health)
    ctx.keys.clear()  # after the commit, so no request re-caches the agency as it was
    return out, new


def add_user(
    session: Session,
    username: str,
    role: Role,
    password: str,
    now_: datetime,
    *,
    password_hash: str | None = None,
) -> UserRow:
    """``password_hash``: already hashed by the caller (off the event loop, outside the transaction)."""
    if session.scalars(select(UserRow).where(UserRow.username == username)).first() is not None:
        raise conflict(f"user {username!r} exists")
    if len(password) < 8:
        raise invalid("a password needs at least 8 characters")
    row = UserRow(
        username=username,
        role=role.value,
        password_hash=password_hash or hash_password(password),
        created_at=now_,
        disabled=False,
    )
    session.add(row)
    return row


def upsert_cameras(work: Work, cameras: Iterable[Camera]) -> tuple[int, int]:
    """Insert or update in place (never duplicate), in bulk. Returns (inserted, updated). Stream URLs must
    be rtsp, rtsps, http or https (422 otherwise; the message never repeats the URL)."""
    cameras = list(cameras)
    for c in cameras:
        for what, url in (("stream_main", c.stream_main), ("stream_sub", c.stream_sub)):
            why = check_stream_url(url or "")
            if why:
                raise invalid(f"camera {c.id!r}: {what}: {why}")
    return bulk_upsert(work, cameras)


def upsert_facilities(work: Work, facilities: Iterable[Facility]) -> int:
    n = 0
    for f in facilities:
        row = work.session.get(FacilityRow, f.id) or FacilityRow(id=f.id)
        row.name, row.kind, row.lat, row.lon, row.notes = f.name, f.kind.value, f.lat, f.lon, f.notes
        work.session.add(row)
        n += 1
    return n


def upsert_sensors(work: Work, sensors: Iterable[Sensor], default_agency: str | None = None) -> int:
    """Insert or update sensors. Each belongs to the gateway agency of its ``agency_id`` (an agency id or
    its unique name), else ``default_agency``; with neither, an existing sensor keeps its agency and a new
    one has none (no key may post its events)."""
    agencies = list(work.session.execute(select(AgencyRow.id, AgencyRow.name)).all())
    by_id = {a_id for a_id, _ in agencies}
    by_name: dict[str, list[str]] = {}
    for a_id, name in agencies:
        by_name.setdefault(name, []).append(a_id)

    def owner(ref: str, sensor_id: str) -> str:
        if ref in by_id:
            return ref
        named = by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        raise invalid(f"sensor {sensor_id!r}: agency_id {ref!r} is not one agency's id or unique name")

    n = 0
    for s in sensors:
        row = work.session.get(SensorRow, s.id) or SensorRow(id=s.id)
        row.name, row.kind, row.lat, row.lon, row.threshold = s.name, s.kind.value, s.lat, s.lon, s.threshold
        ref = s.agency_id or default_agency
        if ref is not None:
            row.agency_id = owner(ref, s.id)
        work.session.add(row)
        n += 1
    return n


def cameras_near(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    lat: float,
    lon: float,
    radius_m: float,
    limit: int,
) -> list[CameraOut]:
    point = GeoPoint.checked(lat, lon)
    if point is None:
        raise invalid(f"near={lat},{lon} is not a valid WGS84 coordinate")
    index = ctx.cameras.index()
    found = index.nearest(point, limit, radius_m)
    if any(c.approximate for c, _ in found):
        # Stand-in positions (a stack at an area's centroid) come after every exact camera in the radius,
        # and must not crowd them out of the first ``limit``.
        found = index.nearest(point, len(index), radius_m)
        found.sort(key=lambda cd: cd[0].approximate)  # stable: by distance within each group
        found = found[:limit]
    with ctx.uow.reading(principal, client) as work:
        rows = {
            r.id: r
            for r in work.session.scalars(select(CameraRow).where(CameraRow.id.in_([c.id for c, _ in found])))
        }
        work.audit("camera.search", "camera", None, near=[lat, lon], radius_m=radius_m, count=len(found))
        out = []
        for cam, d in found:
            r = rows.get(cam.id)
            if r is not None:
                o = camera_out(r)
                o.distance_m = round(d, 1)
                out.append(o)
        return out


def list_cameras(
    ctx: EngineContext, principal: Principal, client: str | None, limit: int, offset: int
) -> list[CameraOut]:
    with ctx.uow.reading(principal, client) as work:
        rows = work.session.scalars(
            select(CameraRow)
            .where(CameraRow.retired_at.is_(None))
            .order_by(CameraRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        work.audit("camera.list", "camera", None, count=len(rows))
        return [camera_out(r) for r in rows]


def get_camera(ctx: EngineContext, principal: Principal, client: str | None, camera_id: str) -> CameraOut:
    with ctx.uow.reading(principal, client) as work:
        row = work.session.get(CameraRow, camera_id)
        if row is None:
            raise not_found("camera", camera_id)
        work.audit("camera.read", "camera", camera_id)
        return camera_out(row)

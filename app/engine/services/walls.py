"""Video walls: a layout per wall that consoles change and wall processes follow live.

An incident takeover puts the incident's cameras (and the map) on the wall and keeps the layout it
replaced, so that "release" brings the wall back to what it showed before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import forbidden, invalid, not_found
from app.engine.work import Work
from app.formats.api import WallIn, WallOut
from app.store.models import CameraRow, IncidentCameraRow, IncidentRow, WallRow

GRIDS = (1, 4, 9, 16)
ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def wall_out(row: WallRow) -> WallOut:
    layout = row.layout or {}
    return WallOut(
        id=row.id,
        name=row.name,
        grid=int(layout.get("grid", 4)),
        tiles=list(layout.get("tiles", [])),
        show_map=bool(layout.get("show_map", False)),
        mode=layout.get("mode", "normal"),
        incident_id=layout.get("incident_id"),
        has_previous=row.previous_layout is not None,
        updated_at=row.updated_at,
    )


def grid_for(count: int) -> int:
    """The smallest grid that holds ``count`` tiles (capped at 16)."""
    return next((g for g in GRIDS if g >= count), 16)


def _require_user(principal: Principal) -> None:
    if principal.kind not in ("user", "system"):
        raise forbidden("walls are controlled by console users")


def _check_ids(wall_id: str) -> None:
    if not wall_id or len(wall_id) > 64 or not set(wall_id) <= ID_CHARS:
        raise invalid("a wall id is 1–64 letters, digits, '-', '_' or '.'")


def _publish(work: Work, row: WallRow) -> None:
    work.live("wall.updated", wall_out(row).model_dump(mode="json"))


def list_walls(ctx: EngineContext, principal: Principal) -> list[WallOut]:
    with ctx.uow.read() as s:
        return [wall_out(r) for r in s.scalars(select(WallRow).order_by(WallRow.id))]


def get_wall(ctx: EngineContext, principal: Principal, wall_id: str) -> WallOut:
    with ctx.uow.read() as s:
        row = s.get(WallRow, wall_id)
        if row is None:
            raise not_found("wall", wall_id)
        return wall_out(row)


def put_wall(
    ctx: EngineContext, principal: Principal, client: str | None, wall_id: str, body: WallIn
) -> WallOut:
    _require_user(principal)
    _check_ids(wall_id)
    with ctx.uow(principal, client) as work:
        cams = [c for c in body.layout.tiles if c]
        known = set(work.session.scalars(select(CameraRow.id).where(CameraRow.id.in_(cams))))
        unknown = [c for c in cams if c not in known]
        if unknown:
            raise invalid(f"unknown camera ids: {', '.join(unknown[:10])}")
        row = work.session.get(WallRow, wall_id)
        layout: dict[str, Any] = {
            "grid": body.layout.grid,
            "tiles": list(body.layout.tiles),
            "show_map": body.layout.show_map,
            "mode": "normal",
        }
        if row is None:
            row = WallRow(
                id=wall_id,
                name=body.name or wall_id,
                layout=layout,
                previous_layout=None,
                updated_at=work.now,
            )
            work.session.add(row)
        else:
            row.layout, row.updated_at = layout, work.now
            if body.name:
                row.name = body.name
        work.audit("wall.update", "wall", wall_id, grid=body.layout.grid, cameras=cams)
        _publish(work, row)
        return wall_out(row)


def takeover(
    ctx: EngineContext, principal: Principal, client: str | None, wall_id: str, incident_id: str
) -> WallOut:
    """Send an incident to a wall: its cameras in a grid that fits them, plus the map."""
    _require_user(principal)
    with ctx.uow(principal, client) as work:
        row = work.session.get(WallRow, wall_id)
        if row is None:
            raise not_found("wall", wall_id)
        incident = work.session.get(IncidentRow, incident_id)
        if incident is None:
            raise not_found("incident", incident_id)
        cams = list(
            work.session.scalars(
                select(IncidentCameraRow.camera_id)
                .where(IncidentCameraRow.incident_id == incident_id)
                .order_by(IncidentCameraRow.rank)
            )
        )[:15]
        grid = grid_for(len(cams) + 1)  # one tile is left for the map
        if (row.layout or {}).get("mode") != "incident":
            row.previous_layout = row.layout
        row.layout = {
            "grid": grid,
            "tiles": cams,
            "show_map": True,
            "mode": "incident",
            "incident_id": incident_id,
        }
        row.updated_at = work.now
        work.audit("wall.takeover", "wall", wall_id, incident_id=incident_id, cameras=cams)
        work.timeline(incident_id, "wall.takeover", wall=wall_id)
        _publish(work, row)
        return wall_out(row)


def release(ctx: EngineContext, principal: Principal, client: str | None, wall_id: str) -> WallOut:
    _require_user(principal)
    with ctx.uow(principal, client) as work:
        row = work.session.get(WallRow, wall_id)
        if row is None:
            raise not_found("wall", wall_id)
        if row.previous_layout is None:
            raise invalid(f"wall {wall_id} has no earlier layout to go back to")
        row.layout, row.previous_layout, row.updated_at = row.previous_layout, None, work.now
        work.audit("wall.release", "wall", wall_id)
        _publish(work, row)
        return wall_out(row)

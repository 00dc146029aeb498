"""What a wall key may read: its own wall, the cameras its layout shows, and the incident its takeover
shows (without shares, deliveries, reports or the timeline). Everything else answers 404, like a miss."""

from __future__ import annotations

from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import not_found
from app.formats.api import IncidentDetailOut
from app.store.models import WallRow


def _layout(ctx: EngineContext, wall_id: str) -> dict[str, object]:
    with ctx.uow.read() as s:
        row = s.get(WallRow, wall_id)
        return dict(row.layout or {}) if row is not None else {}


def check_wall(principal: Principal, wall_id: str) -> None:
    if principal.kind == "wall" and principal.id != wall_id:
        raise not_found("wall", wall_id)


def check_camera(ctx: EngineContext, principal: Principal, camera_id: str) -> None:
    if principal.kind != "wall":
        return
    tiles = _layout(ctx, principal.id).get("tiles") or []
    if not isinstance(tiles, list) or camera_id not in tiles:
        raise not_found("camera", camera_id)


def check_incident(ctx: EngineContext, principal: Principal, incident_id: str) -> None:
    if principal.kind != "wall":
        return
    if _layout(ctx, principal.id).get("incident_id") != incident_id:
        raise not_found("incident", incident_id)


def wall_view(principal: Principal, detail: IncidentDetailOut) -> IncidentDetailOut:
    """The wall's map needs the place, the cameras and the track, never shares, notes or deliveries."""
    if principal.kind != "wall":
        return detail
    return detail.model_copy(update={"shares": [], "deliveries": [], "reports": [], "timeline": []})

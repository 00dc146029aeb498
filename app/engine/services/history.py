"""Closed incidents, searched (issue #15): the console's read-only history view.

``search_history`` filters closed incidents by when they were closed (``since``/``until``), service,
place (a substring of the address, or a circle ``near`` a point) and text (a substring of the title,
the agency's request number or the address), newest closed first, at most :data:`MAX_LIMIT` rows.
Console roles and auditors only (agencies read their own incidents through ``GET /api/v1/incidents``);
every search is audited as ``incident.history`` with its query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from app.domain.enums import IncidentStatus
from app.domain.geo import Circle, GeoPoint
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.views import incident_out
from app.formats.api import IncidentOut
from app.store.models import IncidentRow

MAX_LIMIT = 500


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_history(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    service: str | None,
    place: str | None,
    near: Circle | None,
    text: str | None,
    limit: int,
) -> list[IncidentOut]:
    with ctx.uow.reading(principal, client) as work:
        q = select(IncidentRow).where(IncidentRow.status == IncidentStatus.CLOSED.value)
        if since is not None:
            q = q.where(IncidentRow.closed_at >= since)
        if until is not None:
            q = q.where(IncidentRow.closed_at <= until)
        if service:
            q = q.where(IncidentRow.service == service)
        if place:
            q = q.where(IncidentRow.address.ilike(_like(place), escape="\\"))
        if text:
            pattern = _like(text)
            q = q.where(
                or_(
                    IncidentRow.title.ilike(pattern, escape="\\"),
                    IncidentRow.external_id.ilike(pattern, escape="\\"),
                    IncidentRow.address.ilike(pattern, escape="\\"),
                )
            )
        if near is not None:
            box = near.bbox()
            q = q.where(
                IncidentRow.lat.between(box.south, box.north), IncidentRow.lon.between(box.west, box.east)
            )
        q = q.order_by(IncidentRow.closed_at.desc(), IncidentRow.id).limit(
            min(limit, MAX_LIMIT) * (4 if near is not None else 1)
        )
        rows = [
            r for r in work.session.scalars(q).all() if near is None or near.contains(GeoPoint(r.lat, r.lon))
        ][: min(limit, MAX_LIMIT)]
        work.audit(
            "incident.history",
            "incident",
            None,
            count=len(rows),
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            service=service,
            place=place,
            near=[near.center.lat, near.center.lon, near.radius_m] if near else None,
            text=text,
        )
        return [incident_out(r, ctx.golden_time(r.service)) for r in rows]

"""``GET /api/v1/history/incidents``: closed incidents, searched (read-only, audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.domain.geo import Circle, GeoPoint
from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import ServiceError
from app.engine.services.history import MAX_LIMIT, search_history
from app.formats.api import IncidentOut

router = APIRouter(prefix="/api/v1", tags=["incidents"])

ServiceName = Literal[
    "112-emergency-video", "112-dispatch", "119-dispatch", "disaster-response", "vulnerable-sos"
]


def _near(near: str | None) -> Circle | None:
    if near is None:
        return None
    try:
        lat, lon, radius = (float(v) for v in near.split(","))
        if not 0 < radius <= 50_000:
            raise ValueError
        return Circle(GeoPoint(lat, lon), radius)
    except ValueError:
        raise ServiceError(
            422, "Validation failed", f"near must be 'lat,lon,radius_m' (radius 0–50000 m), got {near!r}"
        ) from None


@router.get("/history/incidents", response_model=list[IncidentOut])
def history(
    ctx: Ctx,
    principal: Caller,
    client: Client,
    since: datetime | None = None,
    until: datetime | None = None,
    service: ServiceName | None = None,
    place: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    near: Annotated[str | None, Query(max_length=80, description="lat,lon,radius_m")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
) -> list[IncidentOut]:
    """Closed incidents, newest closed first, filtered by closing time, service, place and text."""
    if since is not None and until is not None and since > until:
        raise ServiceError(422, "Validation failed", "since is after until")
    return search_history(
        ctx,
        principal,
        client,
        since=since,
        until=until,
        service=service,
        place=place,
        near=_near(near),
        text=q,
        limit=limit,
    )

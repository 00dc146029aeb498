"""``GET /api/v1/districts``: the administrative districts CAP geocodes select (for the console's map).

Districts are public geography, not personal data: reading them is not audited. Console roles only; an
agency learns which of its geocodes are unknown from the refusal of its alert (docs/ENGINE.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.engine.api.deps import Caller, Ctx
from app.engine.errors import ServiceError
from app.engine.services.districts import district_summaries
from app.formats.districts import DistrictOut

router = APIRouter(prefix="/api/v1", tags=["districts"])


@router.get("/districts", response_model=list[DistrictOut])
def districts(
    ctx: Ctx,
    principal: Caller,
    bbox: Annotated[str | None, Query(description="south,west,north,east", max_length=128)] = None,
    geometry: Annotated[bool, Query(description="include each district's GeoJSON geometry")] = False,
) -> list[DistrictOut]:
    box: tuple[float, float, float, float] | None = None
    if bbox is not None:
        try:
            south, west, north, east = (float(v) for v in bbox.split(","))
        except ValueError:
            raise ServiceError(
                422, "Validation failed", f"bbox must be 'south,west,north,east', got {bbox!r}"
            ) from None
        if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
            raise ServiceError(
                422, "Validation failed", f"bbox {bbox!r} is not a south ≤ north, west ≤ east box"
            )
        box = (south, west, north, east)
    with ctx.uow.read() as session:
        rows = district_summaries(session, box, with_geometry=geometry)
    return [DistrictOut.model_validate(r) for r in rows]

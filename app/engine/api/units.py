"""``POST /api/v1/incidents/{incident_id}/units``: an agency sends its dispatched units' positions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.services.unit_positions import post_unit_positions
from app.formats.units import UnitPositionOut, UnitPositionsIn

router = APIRouter(prefix="/api/v1", tags=["incidents"])


@router.post("/incidents/{incident_id}/units", response_model=list[UnitPositionOut])
def post_units(
    incident_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: UnitPositionsIn,
    ctx: Ctx,
    principal: Caller,
    client: Client,
) -> list[UnitPositionOut]:
    """Each unit's last position (the agency's own units, after this post)."""
    return post_unit_positions(ctx, principal, client, incident_id, body)

"""``POST /api/v1/agencies/{id}/keys`` (admin): a new API key for an agency, shown once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.domain.enums import Role
from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import forbidden, not_found
from app.engine.services import agency_admin
from app.formats.api import AgencyKeyIn, AgencyKeyOut, Identifier
from app.store.models import AgencyRow

router = APIRouter(prefix="/api/v1", tags=["agencies"])


@router.post("/agencies/{agency_id}/keys", response_model=AgencyKeyOut, status_code=201)
def rotate_key(
    agency_id: Annotated[Identifier, Path()], ctx: Ctx, principal: Caller, client: Client, body: AgencyKeyIn
) -> AgencyKeyOut:
    """Admin: a new API key (shown once). The old key stops at once, or after ``grace_minutes``."""
    if not principal.has_role(Role.ADMIN):
        raise forbidden("this needs the admin role")
    with ctx.uow(principal, client) as work:
        row = work.session.get(AgencyRow, agency_id)
        if row is None:
            raise not_found("agency", agency_id)
        key, until = agency_admin.rotate_key(work, row, body.grace_minutes)
    ctx.keys.clear()  # after the commit: the old key is not served from the cache
    return AgencyKeyOut(id=agency_id, api_key=key, previous_key_until=until)

"""Incidents, shares and reports for consoles (and, read-only, for agencies on their own incidents)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import forbidden
from app.engine.services import incidents, shares, wall_scope
from app.formats.api import (
    Identifier,
    IncidentDetailOut,
    IncidentOut,
    IncidentPatchIn,
    ReportIn,
    ReportOut,
    ShareExtendIn,
    ShareIn,
    ShareOut,
)

router = APIRouter(prefix="/api/v1", tags=["incidents"])
Id = Annotated[Identifier, Path()]


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    ctx: Ctx,
    principal: Caller,
    client: Client,
    status: Annotated[list[Literal["new", "acknowledged", "closed"]] | None, Query()] = None,
    service: Annotated[
        Literal["112-emergency-video", "112-dispatch", "119-dispatch", "disaster-response", "vulnerable-sos"]
        | None,
        Query(),
    ] = None,
    exercise: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    """The queue's order: open first, then priority (1 highest), then oldest. Drills only with ``exercise=true``
    or when ``exercise`` is omitted; pass ``exercise=false`` for real incidents only."""
    return incidents.list_incidents(
        ctx,
        principal,
        client,
        status=list(status) if status else None,
        service=service,
        exercise=exercise,
        limit=limit,
    )


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut)
def get_incident(incident_id: Id, ctx: Ctx, principal: Caller, client: Client) -> IncidentDetailOut:
    wall_scope.check_incident(ctx, principal, incident_id)
    return wall_scope.wall_view(principal, incidents.get_incident(ctx, principal, client, incident_id))


@router.patch("/incidents/{incident_id}", response_model=IncidentOut)
def patch_incident(
    incident_id: Id, body: IncidentPatchIn, ctx: Ctx, principal: Caller, client: Client
) -> IncidentOut:
    return incidents.patch_incident(ctx, principal, client, incident_id, body)


@router.post("/incidents/{incident_id}/shares", response_model=ShareOut, status_code=201)
def create_share(incident_id: Id, body: ShareIn, ctx: Ctx, principal: Caller, client: Client) -> ShareOut:
    if principal.kind != "user":
        raise forbidden("shares are made by console users")
    return shares.create_share(ctx, principal, client, incident_id, body)


@router.delete("/shares/{share_id}", response_model=ShareOut)
def revoke_share(share_id: Id, ctx: Ctx, principal: Caller, client: Client) -> ShareOut:
    if principal.kind != "user":
        raise forbidden("shares are revoked by console users")
    return shares.revoke_share(ctx, principal, client, share_id)


@router.patch("/shares/{share_id}", response_model=ShareOut)
def extend_share(share_id: Id, body: ShareExtendIn, ctx: Ctx, principal: Caller, client: Client) -> ShareOut:
    if principal.kind != "user":
        raise forbidden("shares are extended by console users")
    return shares.extend_share(ctx, principal, client, share_id, body.minutes, body.reason)


@router.post("/incidents/{incident_id}/reports", response_model=ReportOut, status_code=201)
def create_report(incident_id: Id, body: ReportIn, ctx: Ctx, principal: Caller, client: Client) -> ReportOut:
    return incidents.create_report(ctx, principal, client, incident_id, body)

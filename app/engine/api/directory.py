"""Sessions, cameras, agencies, deliveries and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.engine.api.deps import Caller, Client, Ctx, bearer
from app.engine.auth import logout
from app.engine.errors import ServiceError
from app.engine.login import LoginService
from app.engine.services import directory, wall_scope
from app.engine.services.audit_log import query_audit, to_csv
from app.engine.services.deliveries import retry_delivery
from app.formats.api import (
    AgencyCreatedOut,
    AgencyIn,
    AgencyOut,
    AgencyPatchIn,
    AuditOut,
    CameraOut,
    DeliveryOut,
    Identifier,
    SessionIn,
    SessionOut,
)

router = APIRouter(prefix="/api/v1", tags=["directory"])
Id = Annotated[Identifier, Path()]


@router.post(
    "/sessions",
    response_model=SessionOut,
    status_code=201,
    tags=["auth"],
    responses={429: {"description": "too many failed logins (see Retry-After)"}},
)
async def create_session(body: SessionIn, request: Request, client: Client) -> SessionOut:
    """Log in. Throttled per address and per user name (``429`` with ``Retry-After``); the password is
    verified off the event loop on a small pool of its own."""
    service: LoginService = request.app.state.login
    return await service.login(body.username, body.password, client)


@router.delete("/sessions", status_code=204, tags=["auth"])
def end_session(request: Request, ctx: Ctx, principal: Caller, client: Client) -> Response:
    token = bearer(request) or ""
    with ctx.uow(principal, client) as work:
        logout(work.session, token, work.now)
        work.audit("session.end", "session", None)
    return Response(status_code=204)


@router.get("/cameras", response_model=list[CameraOut], tags=["cameras"])
def cameras(
    ctx: Ctx,
    principal: Caller,
    client: Client,
    near: Annotated[str | None, Query(description="lat,lon", max_length=64)] = None,
    radius_m: Annotated[float, Query(gt=0, le=50_000)] = 500,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,  # bounded: SQLite integers are 64-bit
) -> list[CameraOut]:
    if near is None:
        return directory.list_cameras(ctx, principal, client, limit, offset)
    try:
        lat_s, lon_s = near.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise ServiceError(422, "Validation failed", f"near must be 'lat,lon', got {near!r}") from None
    return directory.cameras_near(ctx, principal, client, lat, lon, radius_m, limit)


@router.get("/cameras/{camera_id}", response_model=CameraOut, tags=["cameras"])
def camera(camera_id: Id, ctx: Ctx, principal: Caller, client: Client) -> CameraOut:
    wall_scope.check_camera(ctx, principal, camera_id)
    return directory.get_camera(ctx, principal, client, camera_id)


@router.get("/agencies", response_model=list[AgencyOut], tags=["agencies"])
def agencies(ctx: Ctx, principal: Caller, client: Client) -> list[AgencyOut]:
    return directory.list_agencies(ctx, principal, client)


@router.post("/agencies", response_model=AgencyCreatedOut, status_code=201, tags=["agencies"])
def create_agency(body: AgencyIn, ctx: Ctx, principal: Caller, client: Client) -> AgencyCreatedOut:
    """Admin: the API key and webhook secret are shown once."""
    return directory.api_create_agency(ctx, principal, client, body)


@router.patch("/agencies/{agency_id}", response_model=AgencyOut, tags=["agencies"])
def patch_agency(
    agency_id: Id, body: AgencyPatchIn, response: Response, ctx: Ctx, principal: Caller, client: Client
) -> AgencyOut:
    """Admin: rename, change format or endpoint, enable/disable, or rotate the webhook secret (the new
    secret comes back once in the ``Webhook-Secret`` header; both secrets sign for 24 hours)."""
    out, secret = directory.api_patch_agency(ctx, principal, client, agency_id, body)
    if secret is not None:
        response.headers["Webhook-Secret"] = secret
    return out


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryOut, tags=["deliveries"])
def retry(delivery_id: Id, ctx: Ctx, principal: Caller, client: Client) -> DeliveryOut:
    """Re-queue a dead-lettered delivery."""
    return retry_delivery(ctx, principal, client, delivery_id)


@router.get("/audit", response_model=list[AuditOut], tags=["audit"])
def audit(
    ctx: Ctx,
    principal: Caller,
    client: Client,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> list[AuditOut] | Response:
    rows = query_audit(
        ctx,
        principal,
        client,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        limit=limit,
    )
    if format == "csv":
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return rows

"""Inbound from agencies and devices: linked-service requests, updates, CAP alerts, sensor events."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.services.alerts import handle_cap
from app.engine.services.intake import handle_request, handle_update
from app.engine.services.sensors import handle_sensor_event, handle_sensor_readings, quiet_readings
from app.formats.api import (
    ExternalId,
    RequestIn,
    RequestResultOut,
    RequestUpdateIn,
    SensorEventIn,
    SensorReadingsIn,
    SensorReadingsOut,
)

router = APIRouter(prefix="/api/v1", tags=["intake"])


@router.post(
    "/requests", response_model=RequestResultOut, status_code=201, summary="A linked-service request"
)
def post_request(body: RequestIn, ctx: Ctx, principal: Caller, client: Client) -> Response:
    """Create an incident for one of the five linked services. A repeat of the agency's ``external_id``
    answers 200 with the same incident."""
    result, created = handle_request(ctx, principal, client, body)
    return _json(result, 201 if created else 200)


def _json(result: RequestResultOut | None, status: int) -> Response:
    """The answer serialised once, here on the request's thread. Returning the model would make FastAPI
    validate it again against ``response_model`` on another trip through the thread pool, then serialise
    it (issue 17: intake CPU); the model is the same, so the OpenAPI schema still names it."""
    content = b"null" if result is None else result.model_dump_json().encode()
    return Response(content=content, status_code=status, media_type="application/json")


@router.post("/requests/{external_id}/updates", response_model=RequestResultOut)
def post_update(
    external_id: Annotated[ExternalId, Path()],
    body: RequestUpdateIn,
    ctx: Ctx,
    principal: Caller,
    client: Client,
) -> RequestResultOut:
    """A new location (the share follows), dispatched units, a note, or ``closed``."""
    return handle_update(ctx, principal, client, external_id, body)


@router.post(
    "/alerts/cap",
    response_model=RequestResultOut,
    status_code=201,
    openapi_extra={
        "requestBody": {"content": {"application/cap+xml": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def post_cap(
    request: Request, response: Response, ctx: Ctx, principal: Caller, client: Client
) -> RequestResultOut:
    """A CAP 1.2 alert (``application/cap+xml``); parsed without DTDs, entities or external references."""
    data = await request.body()
    result, created = await run_in_threadpool(handle_cap, ctx, principal, client, data)
    response.status_code = 201 if created else 200
    return result


@router.post("/sensors/events", response_model=RequestResultOut | None)
async def post_sensor_event(body: SensorEventIn, ctx: Ctx, principal: Caller, client: Client) -> Response:
    """A reading or alarm from a registered sensor: 201 opened an incident, 200 updated the open one,
    202 recorded without an incident (below threshold)."""
    rows = quiet_readings(ctx, principal, [body], indexed=False)
    if rows is not None:  # opens nothing: checked here, written by the flusher, no request thread held
        await asyncio.wrap_future(ctx.sensor_readings.submit(ctx.uow, principal, client, rows))
        return _json(None, 202)
    result, outcome = await run_in_threadpool(handle_sensor_event, ctx, principal, client, body)
    return _json(result, {"opened": 201, "updated": 200, "recorded": 202}[outcome])


@router.post("/sensors/readings", response_model=SensorReadingsOut)
async def post_sensor_readings(
    body: SensorReadingsIn, ctx: Ctx, principal: Caller, client: Client
) -> Response:
    """Up to 500 readings of the gateway's own sensors in one request; each outcome as for
    ``/sensors/events``, in the order sent. Readings that open nothing are recorded in one batch."""
    rows = quiet_readings(ctx, principal, body.readings, indexed=True)
    if rows is not None:
        await asyncio.wrap_future(ctx.sensor_readings.submit(ctx.uow, principal, client, rows))
        return Response(content=_all_recorded(body.readings), media_type="application/json")
    results = await run_in_threadpool(handle_sensor_readings, ctx, principal, client, body.readings)
    return Response(
        content=SensorReadingsOut(results=results).model_dump_json(),
        media_type="application/json",
    )


_RECORDED: dict[str, bytes] = {}  # sensor id → its "recorded" outcome, as JSON


def _all_recorded(readings: list[SensorEventIn]) -> bytes:
    """``SensorReadingsOut`` with every outcome ``recorded``, in the order sent: each sensor's outcome is
    serialised once (only known sensors get here, so the table is as large as the register at most)."""
    parts = []
    for b in readings:
        part = _RECORDED.get(b.sensor_id)
        if part is None:
            if len(_RECORDED) >= 200_000:
                _RECORDED.clear()
            outcome = {"sensor_id": b.sensor_id, "outcome": "recorded", "incident_id": None}
            part = _RECORDED[b.sensor_id] = json.dumps(outcome, separators=(",", ":")).encode()
        parts.append(part)
    return b'{"results":[' + b",".join(parts) + b"]}"

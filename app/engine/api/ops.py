"""Operations: liveness, readiness and Prometheus metrics for a service manager and a monitoring system.

``/healthz`` answers while the process serves; ``/readyz`` only when the database answers, the schema is
current and the dispatcher runs (a load balancer sends traffic to ready engines only). Neither carries
anything but the names of failing checks. ``/metrics`` names agencies and cameras, so it needs the
metrics token from the settings, or, with no token set, a caller on the engine's own machine.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import JSONResponse, PlainTextResponse, Response

from app.domain.enums import DeliveryState
from app.engine.api.deps import Ctx, bearer
from app.engine.api.problems import problem
from app.engine.metrics import EngineMetrics
from app.store.models import AgencyRow, CameraRow, DeliveryRow

Gauge = tuple[str, str, dict[str, str], float]
OPEN = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def make_ops_router(
    metrics: EngineMetrics,
    checks: Callable[[], dict[str, bool]],
    media_gauges: Callable[[], list[Gauge]],
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process serves requests")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database, schema and dispatcher are working")
    def readyz() -> Response:
        results = checks()
        failing = sorted(name for name, ok in results.items() if not ok)
        if failing:
            return JSONResponse({"status": "not ready", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get(
        "/metrics",
        summary="Prometheus metrics (metrics token, or loopback when none is set)",
        response_class=PlainTextResponse,
    )
    def metrics_route(request: Request, ctx: Ctx) -> Response:
        wanted = ctx.settings.ops.metrics_token
        if wanted:
            given = bearer(request) or ""
            if not hmac.compare_digest(given.encode(), wanted.encode()):
                return problem(401, "Unauthorized", "send 'Authorization: Bearer <metrics token>'")
        elif not _is_loopback(request.client.host if request.client else None):
            return problem(
                403,
                "Forbidden",
                "metrics are served to this machine only unless the settings set ops.metrics_token",
            )
        gauges = list(_store_gauges(ctx, ctx.now())) + media_gauges()
        return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4")

    return router


def _store_gauges(ctx: Any, now: datetime) -> Iterator[Gauge]:
    with ctx.uow.read() as s:
        names = dict(s.execute(select(AgencyRow.id, AgencyRow.name)).all())
        waiting = {
            agency_id: (count, oldest)
            for agency_id, count, oldest in s.execute(
                select(DeliveryRow.agency_id, func.count(), func.min(DeliveryRow.created_at))
                .where(DeliveryRow.state.in_(OPEN))
                .group_by(DeliveryRow.agency_id)
            ).all()
        }
        for agency_id, name in sorted(names.items()):
            labels = {"agency_id": agency_id, "agency": name}
            count, oldest = waiting.get(agency_id, (0, None))
            lag = (now - _aware(oldest, now)).total_seconds() if oldest is not None else 0.0
            yield ("goldentime_delivery_queue_depth", "Deliveries waiting to be sent.", labels, count)
            yield (
                "goldentime_delivery_lag_seconds",
                "Age of the oldest delivery still waiting, per agency (0 when none waits).",
                labels,
                max(0.0, lag),
            )
        dead = s.execute(
            select(DeliveryRow.agency_id, func.count())
            .where(DeliveryRow.state == DeliveryState.DEAD.value)
            .group_by(DeliveryRow.agency_id)
        ).all()
        for agency_id, count in dead:
            labels = {"agency_id": agency_id, "agency": names.get(agency_id, "")}
            yield ("goldentime_dead_letters", "Deliveries given up on (dead letters).", labels, count)
        online = dict(
            s.execute(
                select(CameraRow.online, func.count())
                .where(CameraRow.retired_at.is_(None))
                .group_by(CameraRow.online)
            ).all()
        )
        for state, flag in (("online", True), ("offline", False)):
            yield (
                "goldentime_cameras",
                "Cameras by health as the media relay last saw them.",
                {"state": state},
                online.get(flag, 0),
            )


def _aware(value: datetime, like: datetime) -> datetime:
    if value.tzinfo is None and like.tzinfo is not None:
        return value.replace(tzinfo=like.tzinfo)
    return value

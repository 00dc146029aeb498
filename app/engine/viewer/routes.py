"""The share page: what an agency's staff open from a ``viewer_url`` in any current browser.

* ``GET /view/{token}`` — the page (HTML, the same for every share; no inline script or style).
* ``GET /view/{token}/share.json`` — what the page shows: the share's state and expiry (with the
  server's clock, for the countdown), the incident's place, and every shared camera with its name,
  distance and compass direction from the incident, the way it faces, and its WebSocket URLs on the
  media port (main stream, and the H.264 sub stream where the camera has one).
* ``GET /view/static/{name}`` — the page's script and style sheet, served from this package: every
  asset is local (air-gapped sites have no CDN).

Every answer carries a strict Content-Security-Policy: scripts and styles only from the engine itself,
video only from ``blob:`` (Media Source Extensions), connections only to the engine and the media port.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import select

from app.domain.enums import ShareStatus
from app.domain.geo import GeoPoint, bearing_deg, distance_m
from app.engine.api.problems import problem
from app.engine.context import EngineContext
from app.engine.media_access import find_share
from app.engine.views import share_status
from app.store.models import CameraRow, IncidentCameraRow, IncidentRow

STATIC = Path(__file__).with_name("static")
ASSETS = {"viewer.js": "text/javascript; charset=utf-8", "viewer.css": "text/css; charset=utf-8"}
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def compass(deg: float | None) -> str | None:
    return None if deg is None else COMPASS[round((deg % 360) / 45) % 8]


def ws_origin(http_base: str) -> str:
    parts = urlsplit(http_base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def security_headers(media_base: str) -> dict[str, str]:
    connect = " ".join(dict.fromkeys(["'self'", ws_origin(media_base), media_base.rstrip("/")]))
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src blob:; connect-src {connect}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>GoldenTime live video</title>
<link rel="stylesheet" href="/view/static/viewer.css">
<script src="/view/static/viewer.js" defer></script>
</head>
<body>
<header id="top">
  <h1 id="title">GoldenTime</h1>
  <div id="place"></div>
  <div id="countdown" aria-live="polite"></div>
</header>
<div id="banner" hidden role="alert"></div>
<main id="grid"></main>
<noscript>This page needs JavaScript to play live video.</noscript>
</body>
</html>
"""


def make_viewer_router(ctx: EngineContext, media_base: Callable[[], str]) -> APIRouter:
    router = APIRouter(tags=["viewer"])

    @router.get("/view/{token}", response_class=Response, summary="The share page for a browser")
    def page(token: str) -> Response:
        with ctx.uow.read() as s:
            known = find_share(s, token) is not None
        if not known:
            return problem(404, "Not Found", "this link is not a valid share")
        return Response(PAGE, media_type="text/html; charset=utf-8", headers=security_headers(media_base()))

    @router.get("/view/{token}/share.json", summary="What the share page shows")
    def share_json(token: str, request: Request) -> Response:
        now = ctx.now()
        with ctx.uow.read() as s:
            share = find_share(s, token)
            if share is None:
                return problem(404, "Not Found", "this link is not a valid share")
            incident = s.get(IncidentRow, share.incident_id)
            status = share_status(share, now)
            cams = {str(c) for c in share.camera_ids}
            rows = s.execute(
                select(CameraRow, IncidentCameraRow.distance_m)
                .outerjoin(
                    IncidentCameraRow,
                    (IncidentCameraRow.camera_id == CameraRow.id)
                    & (IncidentCameraRow.incident_id == share.incident_id),
                )
                .where(CameraRow.id.in_(cams))
            ).all()
            body = _describe(share, status, incident, rows, now, token, media_base())
        headers = security_headers(media_base())
        return JSONResponse(body, headers=headers)

    @router.get("/view/static/{name}", response_class=Response, summary="The share page's script and style")
    def asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            return problem(404, "Not Found", "no such asset")
        return FileResponse(
            STATIC / name,
            media_type=media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    return router


def _describe(
    share: Any,
    status: ShareStatus,
    incident: IncidentRow | None,
    rows: Any,
    now: datetime,
    token: str,
    media_base: str,
) -> dict[str, Any]:
    ws = ws_origin(media_base)
    place = None
    here = None
    if incident is not None:
        place = {"address": incident.address, "lat": incident.lat, "lon": incident.lon}
        here = GeoPoint(incident.lat, incident.lon)
    order = [str(c) for c in share.camera_ids]
    cameras = []
    for cam, linked_distance in sorted(rows, key=lambda r: order.index(r[0].id)):
        distance = linked_distance
        bearing = None
        if here is not None:
            there = GeoPoint(cam.lat, cam.lon)
            distance = distance if distance is not None else distance_m(here, there)
            bearing = bearing_deg(here, there) if distance and distance > 0.5 else None
        name = quote(cam.id, safe="")
        has_sub = bool(cam.stream_sub) and cam.stream_sub != cam.stream_main
        cameras.append(
            {
                "id": cam.id,
                "name": cam.name,
                "distance_m": None if distance is None else round(distance),
                "bearing_deg": None if bearing is None else round(bearing),
                "bearing": compass(bearing),
                "facing_deg": cam.direction_deg,
                "facing": compass(cam.direction_deg),
                "ws": f"{ws}/media/{token}/{name}.ws",
                "ws_sub": f"{ws}/media/{token}/{name}~sub.ws" if has_sub else None,
            }
        )
    return {
        "status": status.value,
        "expires_at": share.expires_at.isoformat(),
        "server_time": now.isoformat(),
        "purpose": share.purpose,
        "place": place,
        "cameras": cameras if status is ShareStatus.ACTIVE else [],
    }

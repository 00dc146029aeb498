"""The engine's side of live video: the supervised media process, grants, pre-warming, camera health,
revocations pushed to the media process, report snapshots, and the engine's own ``/media/`` routes.

The relay runs in its own process (``app/engine/media/process.py``, DESIGN §2 and §8 2026-12-05) on the
media port; the engine authorises every viewer for it over the control channel, pushes revocations
(a revoked share at once from the live events; everything else — expired shares, ended console
sessions — from one batched check a second over the grants being watched), records the viewings in
the audit, and keeps the camera states it reports. Media URLs on the engine's own port
(``/media/{token}/{camera}.ts|.jpg``, what consoles built before the media port existed) are authorised
here and answered with a 307 to the media port.

A camera id in a media URL may end in ``~sub`` to ask for the camera's sub stream (grid tiles); without
it the main stream plays. The relay opens one upstream per stream URL whoever watches.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import select, update
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response

from app.domain.enums import ShareStatus
from app.domain.stream_url import scrub
from app.engine.api.deps import Caller, Ctx, bearer
from app.engine.api.problems import problem
from app.engine.context import EngineContext
from app.engine.live import LiveHub
from app.engine.log_files import media_log_args
from app.engine.media.control import ChannelClosed
from app.engine.media.process import camera_key, grant_from_json, grant_to_json
from app.engine.media.routes import MediaDenied, ViewGrant, add_gateway_auth, checked_authorize
from app.engine.media.routes import problem as media_problem
from app.engine.media.supervisor import MediaSupervisor
from app.engine.media_access import EngineMediaAccess, create_media_grant, gateway_credential_ok
from app.engine.viewer.routes import make_viewer_router
from app.engine.views import share_status
from app.engine.work import add_live
from app.formats.api import LiveEvent
from app.store.models import CameraRow, ReportRow, ShareRow
from app.store.share_tokens import token_digest

_log = logging.getLogger(__name__)
CHECK_EVERY_S = 1.0


class MediaWiring:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.access = EngineMediaAccess(ctx)
        self.checker = EngineMediaAccess(ctx, admit=False)  # redirects check; the media port admits
        media = ctx.settings.media
        extra = [] if media.gop_cache else ["--no-gop-cache"]
        extra += ["--batch-interval", f"{media.batch_ms / 1000:g}"]
        sec = ctx.settings.security
        if sec.tls_cert and sec.tls_key:  # video leaves over TLS like everything else
            extra += ["--tls-cert", str(sec.tls_cert), "--tls-key", str(sec.tls_key)]
        extra += media_log_args(ctx.settings.log)  # its own rotating file beside the engine's
        self.supervisor = MediaSupervisor(
            ctx.settings.host, media.port or 0, self._on_message, extra_args=extra, on_connected=self._reset
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._app: FastAPI | None = None
        self.snapshot_dir = ctx.settings.data_dir / "snapshots"
        self.active: dict[str, tuple[int, ViewGrant]] = {}  # grant key -> (viewings, grant)
        self.channels: dict[str, dict[str, Any]] = {}  # upstream (redacted URL) -> last status reported
        ctx.media_base_url = self.base_url

    def base_url(self) -> str:
        """Where viewers reach the media port: ``[media] public_base_url``, else the engine's public host
        (or its listen address) with the media port."""
        settings = self.ctx.settings
        if settings.media.public_base_url:
            return settings.media.public_base_url.rstrip("/")
        host = settings.host
        if settings.public_base_url:
            host = urlsplit(settings.public_base_url).hostname or host
        scheme = "https" if settings.security.tls_cert else "http"
        return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{self.supervisor.port}"

    def install(self, app: FastAPI) -> None:
        self._app = app
        app.include_router(_grant_router(self))
        app.include_router(self._report_router())
        app.include_router(self._redirect_router())
        app.include_router(make_viewer_router(self.ctx, self.base_url))

    async def start(self, hub: LiveHub) -> None:
        self._loop = asyncio.get_running_loop()
        await self.supervisor.start()
        hub.add_listener(self._on_live)
        if self.ctx.settings.media.prewarm:
            self.ctx.prewarm = self._prewarm_threadsafe
        self.ctx.capture_report_snapshot = self._capture_threadsafe
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(self._check_grants())

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.supervisor.stop()

    def request_threadsafe(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """From another thread (tools, tests): a request to the media process, e.g. ``{"t": "stats"}``."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the engine is not running")
        future = asyncio.run_coroutine_threadsafe(self.supervisor.request(message, timeout), loop)
        return future.result(timeout + 1)

    def health(self) -> dict[str, Any]:
        return {**self.supervisor.health(), "url": self.base_url(), "watched_grants": len(self.active)}

    # ------------------------------------------------------------------ the control channel

    async def _on_message(self, message: dict[str, Any]) -> dict[str, Any] | None:
        kind = message.get("t")
        if kind == "authorize":
            try:
                grant = await checked_authorize(
                    self.access,
                    str(message.get("token", "")),
                    str(message.get("camera_id", "")),
                    str(message.get("client", "")),
                )
            except MediaDenied as exc:
                return {
                    "denied": {
                        "status": exc.status,
                        "title": exc.title,
                        "detail": exc.detail,
                        "type": exc.type,
                    }
                }
            key = camera_key(grant)
            if key is not None:
                count = self.active.get(key, (0, grant))[0]
                self.active[key] = (count + 1, grant)
            reply: dict[str, Any] = {"grant": grant_to_json(grant)}
            if grant.expires_at is not None:
                # Relative: the media process counts it on its own clock (no skew with the engine's clock).
                reply["expires_in"] = (grant.expires_at - self.ctx.now()).total_seconds()
            return reply
        if kind == "viewing":
            grant = grant_from_json(message["grant"])
            key = camera_key(grant)
            if key is not None and key in self.active:
                count, g = self.active[key]
                if count <= 1:
                    del self.active[key]
                else:
                    self.active[key] = (count - 1, g)
            await self.access.record_viewing(
                grant,
                datetime.fromisoformat(message["started"]),
                datetime.fromisoformat(message["ended"]),
                int(message.get("bytes", 0)),
            )
            return None
        if kind == "status":
            self.channels[str(message.get("url") or message.get("camera_id"))] = message
            self._on_status(message)
            return None
        return {"error": f"unknown message {kind!r}"} if "id" in message else None

    def _require_gateway(self, request: Request) -> None:
        if not gateway_credential_ok(self.ctx, request.headers.get("authorization")):
            raise HTTPException(
                401,
                "send the media gateway's own key (settings: agency_access.media_gateway_key_sha256)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def _reset(self) -> None:
        """A new media process: nobody watches through it yet."""
        self.active.clear()
        self.channels.clear()

    def gauges(self) -> tuple[int, dict[str, int]]:
        """Viewers and upstreams by state, as the media process last reported them (for /metrics)."""
        by_state: dict[str, int] = {}
        for status in self.channels.values():
            by_state[str(status["state"])] = by_state.get(str(status["state"]), 0) + 1
        return sum(int(c.get("viewers") or 0) for c in self.channels.values()), by_state

    def _revoke(self, key: str, reason: str) -> None:
        """Push a revocation: ``share:ID`` or ``grant:DIGEST`` (all its cameras) or ``…/CAMERA``."""
        for k in [k for k in self.active if k == key or k.startswith(key + "/")]:
            del self.active[k]
        self.supervisor.send({"t": "revoke", "key": key, "reason": reason})

    def _on_live(self, event: LiveEvent) -> None:
        if event.type == "share.revoked" and event.data.get("share_id"):
            key = f"share:{event.data['share_id']}"
            if any(k.startswith(key + "/") for k in self.active):
                self._revoke(key, "revoked")

    async def _check_grants(self) -> None:
        """Once a second, one read for every grant being watched; push the ones that ended."""
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            if not self.active:
                continue
            grants = {k: g for k, (_, g) in self.active.items()}
            try:
                ended = await asyncio.to_thread(self._ended_grants, grants)
            except Exception:
                _log.exception("checking the watched media grants failed")
                continue
            for key, reason in ended.items():
                self._revoke(key, reason)

    def _ended_grants(self, grants: dict[str, ViewGrant]) -> dict[str, str]:
        """The watched (grant, camera) pairs that are no longer valid, with why: the engine's one rule
        (``EngineMediaAccess``) decides, so shares, console sessions and wall keys stay in one place."""
        ended: dict[str, str] = {}
        now = self.ctx.now()
        for key, grant in grants.items():
            if self.access._still_valid(grant):
                continue
            reason = "access ended"
            if grant.expires_at is not None and grant.expires_at <= now:
                reason = "expired"
            elif grant.share_id is not None:
                with self.ctx.uow.read() as s:
                    share = s.get(ShareRow, grant.share_id)
                    status = None if share is None else share_status(share, now)
                reason = (
                    "camera removed from the share"
                    if status is ShareStatus.ACTIVE
                    else (status.value if status is not None else "revoked")
                )
            elif grant.kind == "console":
                reason = "session ended"
            ended[key] = reason
        return ended

    # ------------------------------------------------------------------ hooks called from request threads

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def start() -> None:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            running = asyncio.get_running_loop() is loop
        except RuntimeError:
            running = False
        if running:
            start()
        else:
            loop.call_soon_threadsafe(start)

    def _prewarm_threadsafe(self, camera_ids: list[str]) -> None:
        if camera_ids:
            self._spawn(self._prewarm(list(camera_ids)))

    async def _prewarm(self, camera_ids: list[str]) -> None:
        """Open the chosen cameras' main streams now, so the first viewer gets a picture at once."""
        # The in-memory catalog knows every camera's stream (no database read per incident); a camera
        # imported a moment ago and not yet indexed is read from the store.
        index = self.ctx.cameras.current()
        known = [(c.id, c.stream_main or c.stream_sub) for i in camera_ids if (c := index.get(i)) is not None]
        missing = [i for i in camera_ids if index.get(i) is None]
        if missing:
            known += await asyncio.to_thread(self._streams, missing)
        cameras = [[cam_id, url] for cam_id, url in known if url]
        if cameras:
            # Cameras chosen for an incident are shared with agencies, whose staff open the share page:
            # the browsers' MP4 output starts with them.
            self.supervisor.send({"t": "prewarm", "cameras": cameras, "mp4": True}, keep=True)

    def _streams(self, camera_ids: list[str]) -> list[tuple[str, str]]:
        with self.ctx.uow.read() as s:
            return [
                (r.id, r.stream_main or r.stream_sub)
                for r in s.scalars(select(CameraRow).where(CameraRow.id.in_(camera_ids)))
            ]

    def _capture_threadsafe(self, report_id: str, camera_id: str) -> None:
        self._spawn(self._capture(report_id, camera_id))

    async def _capture(self, report_id: str, camera_id: str) -> None:
        streams = await asyncio.to_thread(self._streams, [camera_id])
        if not streams or not streams[0][1]:
            return
        try:
            reply = await self.supervisor.request(
                {"t": "snapshot", "camera_id": camera_id, "url": streams[0][1], "max_wait": 10.0}, wait_s=20
            )
        except (ChannelClosed, TimeoutError) as exc:
            _log.warning("report %s: no snapshot from camera %s: %s", report_id, camera_id, exc)
            return
        if "jpeg" not in reply:
            _log.warning(
                "report %s: no snapshot from camera %s: %s", report_id, camera_id, reply.get("error")
            )
            return
        jpeg = base64.b64decode(reply["jpeg"])
        path = self.snapshot_dir / f"{report_id}.jpg"
        await asyncio.to_thread(path.write_bytes, jpeg)
        await asyncio.to_thread(self._snapshot_recorded, report_id, camera_id, len(jpeg))

    def _snapshot_recorded(self, report_id: str, camera_id: str, size: int) -> None:
        with self.ctx.uow.writing() as s:
            report = s.get(ReportRow, report_id)
            if report is not None:
                add_live(
                    s,
                    self.ctx.now(),
                    "report.snapshot",
                    {
                        "report_id": report_id,
                        "incident_id": report.incident_id,
                        "camera_id": camera_id,
                        "bytes": size,
                    },
                )

    # ------------------------------------------------------------------ camera health from the relay

    def _on_status(self, status: dict[str, Any]) -> None:
        state = status.get("state")
        camera_id = str(status.get("camera_id", ""))
        if state in ("live", "offline") and camera_id:
            online = state == "live"
            if self.ctx.cameras.online.get(camera_id) != online:
                self.ctx.cameras.online[camera_id] = online
                self._spawn(asyncio.to_thread(self._record_health, camera_id, online, status.get("error")))

    def _record_health(self, camera_id: str, online: bool, error: str | None) -> None:
        with self.ctx.uow.writing() as s:
            s.execute(update(CameraRow).where(CameraRow.id == camera_id).values(online=online))
            add_live(
                s,
                self.ctx.now(),
                "camera.updated",
                # No stream URL, credential or internal address goes out to consoles.
                {"camera_id": camera_id, "online": online, "error": scrub(error) if error else None},
            )

    # ------------------------------------------------------------------ the engine's /media/ routes

    def _redirect_router(self) -> APIRouter:
        router = APIRouter(tags=["media"])
        wiring = self

        async def redirect(token: str, camera_id: str, suffix: str, request: Request) -> Response:
            client = request.client.host if request.client else ""
            try:
                await checked_authorize(wiring.checker, token, camera_id, client)
            except MediaDenied as exc:
                return media_problem(exc.status, exc.title, exc.detail, exc.type)
            return RedirectResponse(
                wiring.base_url() + request.url.path, status_code=307, headers={"Cache-Control": "no-store"}
            )

        @router.get("/media/{token}/{camera_id}.ts", summary="Live MPEG-TS (redirects to the media port)")
        async def media_ts(token: str, camera_id: str, request: Request) -> Response:
            return await redirect(token, camera_id, "ts", request)

        @router.get("/media/{token}/{camera_id}.jpg", summary="Current picture (redirects to the media port)")
        async def media_jpg(token: str, camera_id: str, request: Request) -> Response:
            return await redirect(token, camera_id, "jpg", request)

        async def gateway(token: str, camera_id: str, client: str) -> ViewGrant:
            return await checked_authorize(wiring.access, token, camera_id, client)

        # The gateway's own credential first (a token oracle for anyone else): 401 without it.
        gateway_router = APIRouter(dependencies=[Depends(self._require_gateway)])
        add_gateway_auth(gateway_router, gateway)
        router.include_router(gateway_router)

        @router.api_route(
            "/media/{rest:path}",
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            include_in_schema=False,
        )
        async def media_not_found(rest: str) -> Response:
            return media_problem(404, "Not found", "Media URLs are /media/{token}/{camera_id}.ts or .jpg.")

        return router

    # ------------------------------------------------------------------ report snapshots

    def _report_router(self) -> APIRouter:
        router = APIRouter(tags=["media"])
        directory = self.snapshot_dir
        ctx = self.ctx

        @router.get(
            "/media/{token}/reports/{report_id}.jpg",
            response_class=Response,
            summary="The snapshot taken for a report",
        )
        async def report_snapshot(token: str, report_id: str) -> Response:
            ok = await asyncio.to_thread(_report_visible, ctx, token, report_id)
            if not ok:
                return problem(404, "Not Found", "no such report snapshot for this token")
            path = directory / f"{report_id}.jpg"
            if not path.is_file():
                return problem(404, "Not Found", "the snapshot is not taken yet; try again in a few seconds")
            return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

        return router


def _report_visible(ctx: EngineContext, token: str, report_id: str) -> bool:
    if len(token) > 128 or not report_id.isascii() or len(report_id) > 64:
        return False
    with ctx.uow.read() as s:
        report = s.get(ReportRow, report_id)
        if report is None or report.share_id is None:
            return False
        share = s.get(ShareRow, report.share_id)
        return share is not None and hmac.compare_digest(share.token_hash, token_digest(token))


def _grant_router(wiring: MediaWiring) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["media"])

    @router.post("/media/grants", status_code=201, summary="A media grant for a console or wall session")
    def grant(request: Request, ctx: Ctx, principal: Caller) -> dict[str, str]:
        """Consoles and walls put this token (never their session token) in media URLs on the media port
        (``media_base_url``): ``/media/{token}/{camera_id}.ts`` for the main stream,
        ``/media/{token}/{camera_id}~sub.ts`` for the sub stream."""
        token, expires = create_media_grant(ctx, principal, bearer(request) or "")
        return {"token": token, "expires_at": expires.isoformat(), "media_base_url": wiring.base_url()}

    return router

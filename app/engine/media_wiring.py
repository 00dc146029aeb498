"""The media relay inside the engine: routes, viewing grants, pre-warming, camera health, report snapshots.

A camera id in a media URL may end in ``~sub`` to ask for the camera's sub stream (grid tiles); without
it the main stream plays. The relay opens one upstream per stream URL whoever watches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import select, update
from starlette.responses import FileResponse, Response

from app.engine.api.deps import Caller, Ctx, bearer
from app.engine.api.problems import problem
from app.engine.context import EngineContext
from app.engine.live import LiveHub
from app.engine.media.relay import CameraState, ChannelStatus, MediaRelay
from app.engine.media.routes import make_media_router
from app.engine.media.snapshot import SnapshotError, snapshot_jpeg
from app.engine.media_access import EngineMediaAccess, create_media_grant
from app.engine.work import add_live
from app.store.models import CameraRow, ReportRow, ShareRow

_log = logging.getLogger(__name__)


class MediaWiring:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.access = EngineMediaAccess(ctx)
        self.relay: MediaRelay | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._app: FastAPI | None = None
        self.snapshot_dir = ctx.settings.data_dir / "snapshots"

    def install(self, app: FastAPI) -> None:
        self._app = app
        app.include_router(_grant_router())
        app.include_router(self._report_router())

    async def start(self, hub: LiveHub) -> None:
        self._loop = asyncio.get_running_loop()
        self.relay = MediaRelay()
        self.relay.add_listener(self._on_status)
        assert self._app is not None
        # The relay binds to the running loop, so its routes join the app now, before any request.
        self._app.include_router(make_media_router(self.relay, self.access))
        self.ctx.prewarm = self._prewarm_threadsafe
        self.ctx.capture_report_snapshot = self._capture_threadsafe
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.relay is not None:
            await self.relay.aclose()

    # ------------------------------------------------------------------ hooks called from request threads

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def start() -> None:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        loop.call_soon_threadsafe(start)

    def _prewarm_threadsafe(self, camera_ids: list[str]) -> None:
        if camera_ids:
            self._spawn(self._prewarm(list(camera_ids)))

    async def _prewarm(self, camera_ids: list[str]) -> None:
        """Open the chosen cameras' main streams now, so the first viewer gets a picture at once."""
        relay = self.relay
        if relay is None:
            return
        # The in-memory catalog knows every camera's stream (no database read per incident); a camera
        # imported a moment ago and not yet indexed is read from the store.
        index = self.ctx.cameras.current()
        known = [(c.id, c.stream_main or c.stream_sub) for i in camera_ids if (c := index.get(i)) is not None]
        missing = [i for i in camera_ids if index.get(i) is None]
        if missing:
            known += await asyncio.to_thread(self._streams, missing)
        for cam_id, url in known:
            if url:
                relay.prewarm(cam_id, url)

    def _streams(self, camera_ids: list[str]) -> list[tuple[str, str]]:
        with self.ctx.uow.read() as s:
            return [
                (r.id, r.stream_main or r.stream_sub)
                for r in s.scalars(select(CameraRow).where(CameraRow.id.in_(camera_ids)))
            ]

    def _capture_threadsafe(self, report_id: str, camera_id: str) -> None:
        self._spawn(self._capture(report_id, camera_id))

    async def _capture(self, report_id: str, camera_id: str) -> None:
        relay = self.relay
        streams = await asyncio.to_thread(self._streams, [camera_id])
        if relay is None or not streams or not streams[0][1]:
            return
        try:
            jpeg = await snapshot_jpeg(streams[0][1], relay=relay, camera_id=camera_id, max_wait=10.0)
        except SnapshotError as exc:
            _log.warning("report %s: no snapshot from camera %s: %s", report_id, camera_id, exc)
            return
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

    def _on_status(self, status: ChannelStatus) -> None:
        if status.state in (CameraState.LIVE, CameraState.OFFLINE):
            online = status.state is CameraState.LIVE
            if self.ctx.cameras.online.get(status.camera_id) != online:
                self.ctx.cameras.online[status.camera_id] = online
                self._spawn(
                    asyncio.to_thread(self._record_health, status.camera_id, online, status.last_error)
                )

    def _record_health(self, camera_id: str, online: bool, error: str | None) -> None:
        with self.ctx.uow.writing() as s:
            s.execute(update(CameraRow).where(CameraRow.id == camera_id).values(online=online))
            add_live(
                s,
                self.ctx.now(),
                "camera.updated",
                {"camera_id": camera_id, "online": online, "error": error},
            )

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
        return share is not None and share.token == token


def _grant_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["media"])

    @router.post("/media/grants", status_code=201, summary="A media grant for a console or wall session")
    def grant(request: Request, ctx: Ctx, principal: Caller) -> dict[str, str]:
        """Consoles and walls put this token (never their session token) in media URLs:
        ``/media/{token}/{camera_id}.ts`` for the main stream, ``/media/{token}/{camera_id}~sub.ts`` for the sub stream."""
        token, expires = create_media_grant(ctx, principal, bearer(request) or "")
        return {"token": token, "expires_at": expires.isoformat()}

    return router

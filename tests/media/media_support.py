"""Helpers for the media relay tests: an in-test MediaAccess and a relay served by real uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.engine.media.relay import MediaRelay, RelayConfig
from app.engine.media.routes import MediaDenied, ViewGrant, expose_transport, make_media_router
from app.sim.cameras import CameraSim


@dataclass
class FakeAccess:
    """A tiny MediaAccess: tokens are share ids; ``revoked`` ones stop being valid."""

    urls: dict[str, str]
    tokens: set[str] = field(default_factory=lambda: {"good", "other"})
    revoked: set[str] = field(default_factory=set)
    viewings: list[tuple[ViewGrant, datetime, datetime, int]] = field(default_factory=list)
    recorded: asyncio.Event = field(default_factory=asyncio.Event)

    async def authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        if token == "expired":
            raise MediaDenied(401, "Token expired", "This media token has expired.")
        if token not in self.tokens:
            raise MediaDenied(401, "Invalid token", "Unknown media token.")
        if token in self.revoked:
            raise MediaDenied(403, "Share revoked", "This share was revoked.")
        if camera_id not in self.urls:
            raise MediaDenied(404, "Unknown camera", f"No camera {camera_id}.")
        return ViewGrant(
            viewer=f"viewer-{token}",
            camera_id=camera_id,
            stream_url=self.urls[camera_id],
            kind="share",
            share_id=token,
        )

    async def still_valid(self, grant: ViewGrant) -> bool:
        return grant.share_id not in self.revoked

    async def record_viewing(
        self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int
    ) -> None:
        self.viewings.append((grant, started, ended, bytes_sent))
        self.recorded.set()


def camera_urls(sim: CameraSim) -> dict[str, str]:
    urls = {}
    for i in range(1, sim.count + 1):
        urls[f"cam{i}"] = sim.url(i, "main")
        urls[f"cam{i}-sub"] = sim.url(i, "sub")
    urls["dead"] = "rtsp://127.0.0.1:9/nothing"  # nothing listens on the discard port
    return urls


@dataclass
class Served:
    relay: MediaRelay
    access: FakeAccess
    base: str  # http://127.0.0.1:PORT


@contextlib.asynccontextmanager
async def serve(
    sim: CameraSim, *, check_interval: float = 0.5, send_buffer: int | None = None, **relay_overrides: Any
) -> AsyncIterator[Served]:
    """A relay and its router behind real uvicorn on 127.0.0.1 (any free port)."""
    config = RelayConfig(**{"idle_grace": 1.0, "backoff_initial": 0.2, "backoff_max": 1.0, **relay_overrides})
    relay = MediaRelay(config)
    access = FakeAccess(camera_urls(sim))
    app = FastAPI()
    app.include_router(make_media_router(relay, access, check_interval=check_interval))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:  # accepted sockets inherit it (and lose send-buffer autotuning)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            expose_transport(app),  # as in the media process: the relay writes to the connections
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=3,
            access_log=False,
        )
    )
    sock.listen(128)  # clients queue in the backlog until uvicorn accepts: no need to wait for it
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield Served(relay, access, f"http://127.0.0.1:{port}")
    finally:
        await relay.aclose()
        server.should_exit = True
        await task
        sock.close()

"""The engine's video-wall API (``/api/v1/walls``); no Qt.

:class:`WallsApi` wraps an :class:`~app.client.engine.EngineClient` (same session, same connection pool,
same errors: :class:`~app.client.errors.EngineError`, :class:`~app.client.errors.EngineUnreachable`,
:class:`~app.client.errors.NotAuthenticated`).
"""

from __future__ import annotations

from urllib.parse import quote

from app.client.engine import EngineClient
from app.formats.api import WallIn, WallLayoutIn, WallOut, WallTakeoverIn

__all__ = ["WallsApi"]


#: A camera id ending in this asks the engine's relay for the camera's sub stream (``app/engine/media_wiring``).
class WallsApi:
    """``GET/PUT /api/v1/walls…``, takeover and release, on an existing client session."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client

    async def list_walls(self) -> list[WallOut]:
        return await self.client.call("GET", "/api/v1/walls", list[WallOut])

    async def get_wall(self, wall_id: str) -> WallOut:
        return await self.client.call("GET", f"/api/v1/walls/{_seg(wall_id)}", WallOut)

    async def put_wall(self, wall_id: str, layout: WallLayoutIn, *, name: str | None = None) -> WallOut:
        """Create the wall or replace its layout (the engine pushes ``wall.updated`` to every wall and console)."""
        body = WallIn(name=name, layout=layout).model_dump(mode="json", exclude_none=True)
        return await self.client.call("PUT", f"/api/v1/walls/{_seg(wall_id)}", WallOut, json=body)

    async def takeover(self, wall_id: str, incident_id: str) -> WallOut:
        """Send an incident to the wall: its cameras plus the map; the replaced layout is kept."""
        body = WallTakeoverIn(incident_id=incident_id).model_dump(mode="json")
        return await self.client.call("POST", f"/api/v1/walls/{_seg(wall_id)}/takeover", WallOut, json=body)

    async def release(self, wall_id: str) -> WallOut:
        """Back to the layout before the takeover."""
        return await self.client.call("POST", f"/api/v1/walls/{_seg(wall_id)}/release", WallOut)


def _seg(value: str) -> str:
    return quote(value, safe="")

"""``WS /api/v1/live``: every committed change as ``{type, seq, data}``.

Authenticate with ``Authorization: Bearer …`` or ``?token=…``. Pass ``?since=<last seq seen>`` to receive
everything missed first (a ``resync`` event says the gap was too large: reload the lists instead).
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.engine.api.deps import resolve
from app.engine.context import EngineContext
from app.engine.live import LiveHub
from app.formats.api import LiveEvent

router = APIRouter(prefix="/api/v1", tags=["live"])
_log = logging.getLogger(__name__)


@router.websocket("/live")
async def live(ws: WebSocket) -> None:
    ctx: EngineContext = ws.app.state.ctx
    hub: LiveHub = ws.app.state.hub
    header = ws.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else ws.query_params.get("token")
    principal = await run_in_threadpool(resolve, ctx, secret)
    if principal is None or principal.kind == "agency":
        # Agencies get webhooks; the live feed is for consoles and walls.
        await ws.close(code=4401, reason="a console session token is required")
        return
    try:
        since = int(ws.query_params.get("since", "-1"))
    except ValueError:
        await ws.close(code=4400, reason="since must be an integer")
        return
    await ws.accept()
    sub = hub.subscribe()
    try:
        last = hub.last_seq
        await ws.send_json({"type": "hello", "seq": last, "data": {"user": principal.name}})
        if since >= 0:
            missed, too_many = await run_in_threadpool(hub.catch_up, since)
            if too_many:
                await ws.send_json({"type": "resync", "seq": last, "data": {}})
            else:
                for ev in missed:
                    await ws.send_json(ev.model_dump(mode="json"))
                    last = max(last, ev.seq)
        receiver = asyncio.create_task(_drain_incoming(ws))
        try:
            while True:
                getter = asyncio.create_task(sub.queue.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if receiver in done:
                    getter.cancel()
                    return
                item: LiveEvent | None = getter.result()
                if item is None:
                    await ws.close(code=4408, reason="too far behind; reconnect with since")
                    return
                if item.seq <= last:
                    continue  # already sent during catch-up
                await ws.send_json(item.model_dump(mode="json"))
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)


async def _drain_incoming(ws: WebSocket) -> None:
    """Read (and ignore) client messages so that a disconnect is noticed promptly."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return

"""``WS /api/v1/live``: every committed change as ``{type, seq, data}``.

Authenticate with ``Authorization: Bearer …`` (a console session token or a wall key) or, where a client
cannot set headers, with a first message ``{"type": "auth", "token": "…"}`` within 5 seconds. A token in
the URL is refused (URLs end up in logs). The credential is checked again every second: a logout, an
ended or idle session, a disabled user or a revoked wall key closes the feed (code 4401) within a second.
Pass ``?since=<last seq seen>`` to receive everything missed first (a ``resync`` event says the gap was
too large: reload the lists instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.engine.access_rules import allows, rule_for
from app.engine.api.deps import bearer, resolve
from app.engine.api.gate import caller_of, refuse
from app.engine.auth import Principal, session_alive, wall_key_alive
from app.engine.context import EngineContext
from app.engine.live import LiveHub
from app.formats.api import LiveEvent

router = APIRouter(prefix="/api/v1", tags=["live"])
_log = logging.getLogger(__name__)
AUTH_WAIT_S = 5.0
CHECK_S = 1.0
TARGET = "WS /api/v1/live"


def principal_alive(ctx: EngineContext, principal: Principal) -> bool:
    """Whether the session or wall key behind ``principal`` still holds (blocking)."""
    if principal.credential is None:
        return principal.kind == "system"
    with ctx.uow.read() as s:
        if principal.kind == "wall":
            return wall_key_alive(s, principal.credential) == principal.id
        if principal.kind == "user":
            return session_alive(s, principal.credential, ctx.now(), ctx.session_policy()) is not None
    return False


async def _first_message_token(ws: WebSocket) -> str | None:
    try:
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_WAIT_S)
        msg = json.loads(raw)
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
        return None
    if isinstance(msg, dict) and msg.get("type") == "auth" and isinstance(msg.get("token"), str):
        token: str = msg["token"]
        return token
    return None


@router.websocket("/live")
async def live(ws: WebSocket) -> None:
    ctx: EngineContext = ws.app.state.ctx
    hub: LiveHub = ws.app.state.hub
    if "token" in ws.query_params:
        refuse(ctx, ws, TARGET, None, 401, "credential in the URL")
        await _close(ws, 4400, reason="send the token in the Authorization header or the first message")
        return
    try:
        since = int(ws.query_params.get("since", "-1"))
        if since > 2**62:  # a sequence number the store could not hold
            raise ValueError(since)
    except ValueError:
        await _close(ws, 4400, reason="since must be an integer")
        return
    secret = bearer(ws)
    accepted = False
    if secret is None:
        await ws.accept()
        accepted = True
        secret = await _first_message_token(ws)
    principal = await run_in_threadpool(resolve, ctx, secret)
    rule = rule_for("WS", "/api/v1/live")
    if principal is None or rule is None or not allows(rule, caller_of(principal)):
        refuse(ctx, ws, TARGET, principal, 401 if principal is None else 403, "live feed refused")
        # Agencies get webhooks; auditors read the audit: the live feed is for consoles and walls.
        await _close(ws, 4401, reason="a console session token or a wall key is required")
        return
    if not accepted:
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
        getter: asyncio.Task[LiveEvent | None] | None = None
        next_check = time.monotonic() + CHECK_S
        try:
            while True:
                if getter is None:
                    getter = asyncio.create_task(sub.queue.get())
                wait = max(0.0, next_check - time.monotonic())
                done, _ = await asyncio.wait(
                    {getter, receiver}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if receiver in done:
                    return
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + CHECK_S
                    if not await run_in_threadpool(principal_alive, ctx, principal):
                        await _close(ws, 4401, reason="the session ended")
                        return
                if getter not in done:
                    continue
                item = getter.result()
                getter = None
                if item is None:
                    await _close(ws, 4408, reason="too far behind; reconnect with since")
                    return
                if item.seq <= last:
                    continue  # already sent during catch-up
                await ws.send_json(item.model_dump(mode="json"))
        finally:
            for task in (receiver, getter):
                if task is not None:
                    task.cancel()
            await asyncio.gather(*(t for t in (receiver, getter) if t is not None), return_exceptions=True)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    """Close, unless the client already went away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await ws.close(code=code, reason=reason)


async def _drain_incoming(ws: WebSocket) -> None:
    """Read (and ignore) client messages so that a disconnect is noticed promptly."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return

"""The access gate: one app-wide dependency that applies the role × route rules before any handler runs.

It resolves the caller once (the handlers' ``Caller`` reuses it), refuses with ``401`` (no or bad
credentials) or ``403`` (a caller the route's rule does not list) before the body is validated, audits
every refusal through the batched :class:`~app.engine.refusals.RefusalLog`, and refuses every route that
has no rule at all (fail closed). The rules: :mod:`app.engine.access_rules`.
"""

from __future__ import annotations

from fastapi import WebSocketException
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from app.engine.access_rules import Caller, allows, rule_for
from app.engine.api.deps import address_of, bearer, ctx_of, resolve
from app.engine.auth import KEY_PREFIX, Principal
from app.engine.context import EngineContext


def caller_of(principal: Principal | None) -> Caller:
    if principal is None:
        return Caller.NONE
    if principal.kind == "agency":
        return Caller.AGENCY
    if principal.kind == "wall":
        return Caller.WALL
    if principal.kind == "system":
        return Caller.ADMIN
    assert principal.role is not None
    return Caller(principal.role.value)


def refuse(
    ctx: EngineContext,
    conn: HTTPConnection,
    target: str,
    principal: Principal | None,
    status: int,
    reason: str,
) -> None:
    actor = principal.actor if principal is not None else "anonymous"
    ctx.refusals.record(
        "request.refused", actor, address_of(conn), target, status, reason, ctx.now(), principal.key_holder_id if principal else None
    )


async def access_gate(conn: HTTPConnection) -> None:
    """App-wide dependency. It runs on the event loop and hands only store reads to a request thread (an
    agency key verified a moment ago, public routes and media URLs cost no thread hop at all)."""
    ctx = ctx_of(conn)
    route = conn.scope.get("route")
    path = getattr(route, "path", None) or conn.url.path
    websocket = conn.scope["type"] == "websocket"
    method = "WS" if websocket else str(conn.scope.get("method", "GET"))
    rule = rule_for(method, path)
    target = f"{method} {path}"
    if rule is None:
        refuse(ctx, conn, target, None, 403, "no access rule for this route")
        if websocket:
            raise WebSocketException(code=4403, reason="no access rule for this route")
        raise HTTPException(403, "this route has no access rule; nobody may call it")
    if websocket or rule.credential != "bearer":
        return  # the live feed authenticates from its header or first message; url/public routes check their own
    secret = bearer(conn)
    cached = ctx.keys.get(secret) if secret is not None and secret.startswith(KEY_PREFIX) else None
    principal = cached or (await run_in_threadpool(resolve, ctx, secret) if secret else None)
    if principal is None:
        refuse(ctx, conn, target, None, 401, "no credentials" if secret is None else "invalid credentials")
        raise HTTPException(
            401,
            "send 'Authorization: Bearer <api key, wall key or session token>'"
            if secret is None
            else "the API key, wall key or session token is not valid (or has expired)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = caller_of(principal)
    if not allows(rule, caller):
        refuse(ctx, conn, target, principal, 403, f"{caller.value} may not call this route")
        raise HTTPException(403, f"a {caller.value} may not call {method} {path}")
    conn.state.principal = principal

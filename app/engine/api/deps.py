"""Request dependencies: the engine context and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from app.engine.agency_policy import too_many_requests
from app.engine.auth import (
    KEY_PREFIX,
    TOKEN_PREFIX,
    WALL_KEY_PREFIX,
    Principal,
    authenticate_key,
    authenticate_token,
    authenticate_wall_key,
    session_needs_touch,
    touch_session,
)
from app.engine.context import EngineContext


def ctx_of(request: HTTPConnection) -> EngineContext:
    ctx: EngineContext = request.app.state.ctx
    return ctx


def address_of(request: HTTPConnection) -> str | None:
    return None if request.client is None else request.client.host


# Dependencies are ``async`` when they do not block: FastAPI runs a plain ``def`` dependency on a worker
# thread, and a thread hop per dependency per request is a cost intake pays under load.
async def get_ctx(request: HTTPConnection) -> EngineContext:
    return ctx_of(request)


async def client_of(request: HTTPConnection) -> str | None:
    return address_of(request)


def bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def resolve(ctx: EngineContext, secret: str | None, *, touch: bool = True) -> Principal | None:
    """The caller of an API key, a wall key or a session token (blocking: call from a thread).

    A session's last-seen time (its idle timeout) is refreshed at most once a minute, with ``touch``."""
    if not secret:
        return None
    if secret.startswith(KEY_PREFIX):
        cached = ctx.keys.get(secret)
        if cached is not None:
            return cached
        with ctx.uow.read() as s:
            principal = authenticate_key(s, secret, ctx.now())
        if principal is not None:
            ctx.keys.put(secret, principal)
        return principal
    if secret.startswith(WALL_KEY_PREFIX):
        with ctx.uow.read() as s:
            return authenticate_wall_key(s, secret)
    if not secret.startswith(TOKEN_PREFIX):
        return None
    now = ctx.now()
    policy = ctx.session_policy()
    with ctx.uow.read() as s:
        principal = authenticate_token(s, secret, now, policy)
        stale = (
            principal is not None
            and touch
            and session_needs_touch(s, principal.credential or "", now, policy)
        )
    if stale and principal is not None and principal.credential is not None:
        with ctx.uow.writing() as s:
            touch_session(s, principal.credential, now)
    return principal


async def get_principal(request: Request, ctx: Annotated[EngineContext, Depends(get_ctx)]) -> Principal:
    # The access gate (app/engine/api/gate.py) has normally resolved the caller already.
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return _rate_limited(ctx, known)
    secret = bearer(request)
    if secret is None:
        raise HTTPException(
            401,
            "send 'Authorization: Bearer <api key or session token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await run_in_threadpool(resolve, ctx, secret)
    if principal is None:
        raise HTTPException(
            401,
            "the API key or session token is not valid (or has expired)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _rate_limited(ctx, principal)


def _rate_limited(ctx: EngineContext, principal: Principal) -> Principal:
    """429 + Retry-After when an agency is over its request rate (settings: agency_access.limits)."""
    if principal.kind == "agency":
        limits = ctx.settings.agency_access.limits_of(principal.id)
        wait = ctx.rates.take(principal.id, limits.requests_per_minute)
        if wait > 0:
            raise too_many_requests(wait)
    return principal


Ctx = Annotated[EngineContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(get_principal)]
Client = Annotated[str | None, Depends(client_of)]

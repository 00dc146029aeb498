"""Request dependencies: the engine context and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from app.engine.agency_policy import too_many_requests
from app.engine.auth import KEY_PREFIX, Principal, authenticate_key, authenticate_token
from app.engine.context import EngineContext


def get_ctx(request: Request) -> EngineContext:
    ctx: EngineContext = request.app.state.ctx
    return ctx


def client_of(request: Request) -> str | None:
    return None if request.client is None else request.client.host


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def resolve(ctx: EngineContext, secret: str | None) -> Principal | None:
    if not secret:
        return None
    cached = ctx.keys.get(secret) if secret.startswith(KEY_PREFIX) else None
    if cached is not None:
        return cached
    with ctx.uow.read() as s:
        principal = authenticate_key(s, secret, ctx.now())
        if principal is not None:
            ctx.keys.put(secret, principal)
            return principal
        return authenticate_token(s, secret, ctx.now())


def get_principal(request: Request, ctx: Annotated[EngineContext, Depends(get_ctx)]) -> Principal:
    secret = bearer(request)
    if secret is None:
        raise HTTPException(
            401,
            "send 'Authorization: Bearer <api key or session token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = resolve(ctx, secret)
    if principal is None:
        raise HTTPException(
            401,
            "the API key or session token is not valid (or has expired)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.kind == "agency":
        limits = ctx.settings.agency_access.limits_of(principal.id)
        wait = ctx.rates.take(principal.id, limits.requests_per_minute)
        if wait > 0:
            raise too_many_requests(wait)
    return principal


Ctx = Annotated[EngineContext, Depends(get_ctx)]
Caller = Annotated[Principal, Depends(get_principal)]
Client = Annotated[str | None, Depends(client_of)]

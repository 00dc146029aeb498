"""``/api/v1/users``: user management for admins (the access rules say who; this module says what)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import conflict
from app.engine.passwords import hash_password
from app.engine.services import users
from app.engine.services.directory import add_user
from app.formats.users import SessionsEndedOut, UserIn, Username, UserOut, UserPatchIn

router = APIRouter(prefix="/api/v1", tags=["users"])
Name = Annotated[Username, Path()]


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Ctx, principal: Caller, client: Client) -> list[UserOut]:
    with ctx.uow.reading(principal, client) as work:
        work.audit("user.list", "user", None)
        return users.list_users(work.session, work.now)


@router.post("/users", response_model=UserOut, status_code=201, responses={409: {"description": "exists"}})
async def create_user(body: UserIn, ctx: Ctx, principal: Caller, client: Client) -> UserOut:
    # Hash off the event loop and outside the transaction (argon2 costs tens of milliseconds).
    pw_hash = await run_in_threadpool(hash_password, body.password)
    return await run_in_threadpool(_create, ctx, principal, client, body, pw_hash)


def _create(ctx: Ctx, principal: Caller, client: Client, body: UserIn, pw_hash: str) -> UserOut:
    with ctx.uow(principal, client) as work:
        row = add_user(work.session, body.username, body.role, body.password, work.now, password_hash=pw_hash)
        work.session.flush()
        work.audit("user.create", "user", body.username, role=body.role.value)
        return users.user_out(row)


@router.patch("/users/{username}", response_model=UserOut, responses={404: {"description": "no such user"}})
def patch_user(username: Name, body: UserPatchIn, ctx: Ctx, principal: Caller, client: Client) -> UserOut:
    """Disable or enable (a disabled user's sessions end at once), change the role, or reset the password
    (which ends the user's sessions too)."""
    if principal.kind == "user" and principal.name == username and body.disabled:
        raise conflict("an admin cannot disable their own account")
    # Hash before the transaction: the writer is never held for argon2id.
    new_hash = hash_password(body.password) if body.password is not None else None
    with ctx.uow(principal, client) as work:
        return users.patch_user(work, username, body, new_hash)


@router.delete("/users/{username}/sessions", response_model=SessionsEndedOut)
def end_sessions(username: Name, ctx: Ctx, principal: Caller, client: Client) -> SessionsEndedOut:
    """End every session of a user: its console, live feed and video stop within a second."""
    with ctx.uow(principal, client) as work:
        return SessionsEndedOut(username=username, ended=users.end_sessions(work, username))

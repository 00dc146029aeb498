"""Video walls: layouts that consoles set and wall processes follow (live event ``wall.updated``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.services import wall_scope, walls
from app.formats.api import Identifier, WallIn, WallOut, WallTakeoverIn

router = APIRouter(prefix="/api/v1", tags=["walls"])
Id = Annotated[Identifier, Path()]


@router.get("/walls", response_model=list[WallOut])
def list_walls(ctx: Ctx, principal: Caller) -> list[WallOut]:
    return walls.list_walls(ctx, principal)


@router.get("/walls/{wall_id}", response_model=WallOut)
def get_wall(wall_id: Id, ctx: Ctx, principal: Caller) -> WallOut:
    wall_scope.check_wall(principal, wall_id)
    return walls.get_wall(ctx, principal, wall_id)


@router.put("/walls/{wall_id}", response_model=WallOut)
def put_wall(wall_id: Id, body: WallIn, ctx: Ctx, principal: Caller, client: Client) -> WallOut:
    """Create the wall or replace its layout (``grid`` 1/4/9/16, ``tiles`` row by row)."""
    return walls.put_wall(ctx, principal, client, wall_id, body)


@router.post("/walls/{wall_id}/takeover", response_model=WallOut)
def takeover(wall_id: Id, body: WallTakeoverIn, ctx: Ctx, principal: Caller, client: Client) -> WallOut:
    """Send an incident to the wall: its cameras plus the map; the replaced layout is kept."""
    return walls.takeover(ctx, principal, client, wall_id, body.incident_id)


@router.post("/walls/{wall_id}/release", response_model=WallOut)
def release(wall_id: Id, ctx: Ctx, principal: Caller, client: Client) -> WallOut:
    """Back to the layout before the takeover."""
    return walls.release(ctx, principal, client, wall_id)

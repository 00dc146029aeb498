"""What a wall display shows, decided without a screen (no Qt): the engine's layout → grid cells, which
cell holds the map, the header's clock and notice, the connection state, and the status a test reads.

The window renders :class:`WallDisplayModel`; the link to the engine feeds it (:meth:`~WallDisplayModel.apply_wall`,
:meth:`~WallDisplayModel.apply_event`, :meth:`~WallDisplayModel.set_link`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ValidationError

from app.console.map.markers import incident_map_payload
from app.formats.api import CameraOut, IncidentOut, LiveEvent, WallOut

__all__ = [
    "GRIDS",
    "Cell",
    "CellKind",
    "LinkState",
    "MapState",
    "Notice",
    "WallDisplayModel",
    "WallView",
    "big_map",
    "format_clock",
    "grid_side",
    "layout_cells",
    "map_index",
    "map_state",
    "wall_from_event",
    "zoom_to_fit",
]

GRIDS: tuple[int, ...] = (1, 4, 9, 16)
CellKind = Literal["camera", "map", "empty"]
_WEEKDAYS = {
    "ko": ("월", "화", "수", "목", "금", "토", "일"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def grid_side(grid: int) -> int:
    """Tiles per row of a square grid (1, 2, 3, 4); unknown sizes round up to the next square."""
    return max(1, min(4, math.isqrt(max(1, grid) - 1) + 1))


@dataclass(frozen=True, slots=True)
class Cell:
    """One place on the wall, in reading order from the top left.

    ``slot`` is the position in the layout's ``tiles`` list that this cell shows (and that a camera dropped
    on it replaces); the map has none. A cell may span several rows and columns (the big map).
    """

    index: int
    row: int
    col: int
    kind: CellKind
    camera_id: str | None = None
    slot: int | None = None
    row_span: int = 1
    col_span: int = 1


def map_index(grid: int, tiles: Sequence[str | None]) -> int:
    """Where a one-cell map goes: the first cell without a camera, else the last cell (the map wins)."""
    side = grid_side(grid)
    n = side * side
    for i in range(n):
        if i >= len(tiles) or tiles[i] is None:
            return i
    return n - 1


def big_map(grid: int, tiles: Sequence[str | None], show_map: bool) -> bool:
    """Whether the map takes 2×2 cells: on a 3×3 or 4×4 grid that has four cells to spare for it."""
    side = grid_side(grid)
    cams = len(dict.fromkeys(t for t in tiles[: side * side] if t))
    return show_map and side >= 3 and cams <= side * side - 4


def layout_cells(grid: int, tiles: Sequence[str | None], show_map: bool) -> tuple[Cell, ...]:
    """Every cell of the grid with what it shows. A camera appears once (a repeat leaves its cell empty).

    Without a map, cell *i* shows ``tiles[i]``. A one-cell map takes the first free cell; a big map
    (:func:`big_map`) takes the top-left 2×2 and the cameras follow it in order, gaps closed.
    """
    side = grid_side(grid)
    n = side * side
    seen: set[str] = set()
    cells: list[Cell] = []
    if big_map(grid, tiles, show_map):
        cams = [t for t in dict.fromkeys(t for t in tiles[:n] if t)]
        cells.append(Cell(0, 0, 0, "map", row_span=2, col_span=2))
        slot = 0
        for pos in range(n):
            row, col = divmod(pos, side)
            if row < 2 and col < 2:
                continue
            cam = cams[slot] if slot < len(cams) else None
            cells.append(Cell(len(cells), row, col, "camera" if cam else "empty", cam, slot))
            slot += 1
        return tuple(cells)
    where_map = map_index(grid, tiles) if show_map else -1
    for i in range(n):
        row, col = divmod(i, side)
        cam = tiles[i] if i < len(tiles) else None
        if i == where_map:
            cells.append(Cell(i, row, col, "map"))
        elif cam and cam not in seen:
            seen.add(cam)
            cells.append(Cell(i, row, col, "camera", cam, i))
        else:
            cells.append(Cell(i, row, col, "empty", None, i))
    return tuple(cells)


@dataclass(frozen=True, slots=True)
class WallView:
    """A wall's layout as cells, with what the header needs."""

    wall_id: str
    name: str
    grid: int
    side: int
    cells: tuple[Cell, ...]
    mode: str
    incident_id: str | None
    show_map: bool

    @property
    def camera_ids(self) -> list[str]:
        return [c.camera_id for c in self.cells if c.camera_id is not None]

    @classmethod
    def of(cls, wall: WallOut) -> WallView:
        return cls(
            wall_id=wall.id,
            name=wall.name,
            grid=wall.grid,
            side=grid_side(wall.grid),
            cells=layout_cells(wall.grid, wall.tiles, wall.show_map),
            mode=wall.mode,
            incident_id=wall.incident_id,
            show_map=wall.show_map,
        )


@dataclass(frozen=True, slots=True)
class MapState:
    """What the wall's map cell shows: camera markers (``MapView.set_cameras`` dicts, all highlighted), the
    incident marker (``MapView.upsert_incident`` dict) and where to centre."""

    cameras: tuple[dict[str, Any], ...]
    incident: dict[str, Any] | None
    center: tuple[float, float] | None
    incident_title: str = ""
    zoom: int = 17


def zoom_to_fit(
    center: tuple[float, float], points: Sequence[tuple[float, float]], *, radius_px: float = 240.0
) -> int:
    """The web-map zoom (12–18) at which every point lies within ``radius_px`` of ``center`` on screen."""
    if not points:
        return 17
    k = math.cos(math.radians(center[0])) or 1e-6
    spread = max(max(abs(lon - center[1]), abs(lat - center[0]) / k) for lat, lon in points)
    if spread <= 0:
        return 18
    z = math.floor(math.log2(radius_px * 360.0 / (256.0 * spread)))
    return max(12, min(18, z))


def map_state(view: WallView | None, cameras: dict[str, CameraOut], incident: IncidentOut | None) -> MapState:
    """The map for a layout: the wall's cameras (and the incident's), the incident, centred on it (else on
    the cameras)."""
    if view is None:
        return MapState((), None, None)
    ids = list(view.camera_ids)
    inc = incident if incident is not None and incident.id == view.incident_id else None
    extra = getattr(inc, "cameras", None) or []
    ids += [c.id for c in extra if c.id not in ids]
    cams = [cameras[i] for i in ids if i in cameras]
    markers = tuple(
        {
            "id": c.id,
            "name": c.name,
            "lat": c.lat,
            "lon": c.lon,
            "purpose": str(c.purpose),
            "state": "online" if c.online else "offline",
            "direction_deg": c.direction_deg,
            "fov_deg": c.fov_deg,
        }
        for c in cams
    )
    center: tuple[float, float] | None = None
    marker: dict[str, Any] | None = None
    if inc is not None:
        center = (inc.location.lat, inc.location.lon)
        marker = incident_map_payload(inc)
    elif cams:
        center = (sum(c.lat for c in cams) / len(cams), sum(c.lon for c in cams) / len(cams))
    zoom = zoom_to_fit(center, [(c.lat, c.lon) for c in cams]) if center is not None else 17
    return MapState(markers, marker, center, inc.title if inc is not None else "", zoom)


def format_clock(now: datetime, language: str = "en") -> str:
    """``2026-11-25 (Wed) 14:03:07`` in the display's local time; the weekday in the display's language."""
    days = _WEEKDAYS.get(language, _WEEKDAYS["en"])
    return f"{now:%Y-%m-%d} ({days[now.weekday()]}) {now:%H:%M:%S}"


class LinkState(StrEnum):
    """The wall's link to the engine, as the header tells it."""

    STARTING = "starting"  # logging in for the first time
    CONNECTED = "connected"  # live feed up: layout changes arrive at once
    OFFLINE = "offline"  # engine unreachable: retrying (video plays on while the relay does)
    UNAUTHORIZED = "unauthorized"  # the session was refused: logging in again
    LOGIN_REFUSED = "login-refused"  # the wall key is wrong or revoked: retrying slowly
    NO_ACCOUNT = "no-account"  # started without a wall key
    STOPPED = "stopped"


class Notice(StrEnum):
    """What the header's discreet notice says (the window words it, translated)."""

    CONNECTING = "connecting"
    UNREACHABLE = "unreachable"
    RELOGIN = "relogin"
    LOGIN_REFUSED = "login-refused"
    NO_ACCOUNT = "no-account"
    WAITING_FOR_LAYOUT = "waiting-for-layout"


def wall_from_event(event: LiveEvent) -> WallOut | None:
    """The wall in a ``wall.updated`` event (None for other events or a malformed one)."""
    if event.type != "wall.updated":
        return None
    try:
        return WallOut.model_validate(event.data)
    except ValidationError:
        return None


class WallDisplayModel:
    """The state of one wall display: its layout (or that it has none yet) and its link to the engine.

    A layout older than the one shown (``updated_at``) is ignored, so a slow ``GET`` that crosses a
    ``wall.updated`` event cannot roll the wall back. ``version`` counts changes of what is shown.
    """

    def __init__(self, wall_id: str) -> None:
        self.wall_id = wall_id
        self.wall: WallOut | None = None
        self.view: WallView | None = None
        self.missing = False  # the engine said the wall does not exist (yet)
        self.link = LinkState.STARTING
        self.link_reason = ""
        self.version = 0

    # ------------------------------------------------------------------ layout

    def apply_wall(self, wall: WallOut) -> bool:
        """A layout from ``GET`` or a live event; True when what the wall shows changed."""
        if wall.id != self.wall_id:
            return False
        current = self.wall
        if current is not None and wall.updated_at < current.updated_at:
            return False
        self.wall = wall
        self.missing = False
        view = WallView.of(wall)
        if view == self.view:
            return False
        self.view = view
        self.version += 1
        return True

    def apply_event(self, event: LiveEvent) -> bool:
        wall = wall_from_event(event)
        return wall is not None and self.apply_wall(wall)

    def wall_missing(self) -> bool:
        """The engine has no such wall: show the waiting state (and keep nothing from before)."""
        changed = not self.missing or self.view is not None
        self.missing = True
        self.wall = None
        self.view = None
        if changed:
            self.version += 1
        return changed

    # ------------------------------------------------------------------ link

    def set_link(self, state: LinkState, reason: str = "") -> bool:
        changed = state is not self.link or reason != self.link_reason
        self.link = state
        self.link_reason = reason
        return changed

    def notice(self) -> Notice | None:
        """The header's notice: a link problem first, else "waiting for a layout", else nothing."""
        link = {
            LinkState.STARTING: Notice.CONNECTING,
            LinkState.OFFLINE: Notice.UNREACHABLE,
            LinkState.UNAUTHORIZED: Notice.RELOGIN,
            LinkState.LOGIN_REFUSED: Notice.LOGIN_REFUSED,
            LinkState.NO_ACCOUNT: Notice.NO_ACCOUNT,
        }.get(self.link)
        if link is not None:
            return link
        if self.view is None:
            return Notice.WAITING_FOR_LAYOUT
        return None

    @property
    def title(self) -> str:
        return self.view.name if self.view is not None else self.wall_id

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        """What the wall shows, as JSON-able values (the status file, diagnostics, tests)."""
        v = self.view
        notice = self.notice()
        return {
            "wall_id": self.wall_id,
            "name": self.title,
            "link": str(self.link),
            "notice": str(notice) if notice else None,
            "waiting": v is None,
            "grid": v.grid if v else None,
            "mode": v.mode if v else None,
            "incident_id": v.incident_id if v else None,
            "show_map": v.show_map if v else False,
            "cells": [
                {"index": c.index, "kind": c.kind, "camera_id": c.camera_id} for c in (v.cells if v else ())
            ],
            "updated_at": self.wall.updated_at.isoformat() if self.wall else None,
            "version": self.version,
        }

"""The console's wall control panel, decided without a screen (no Qt): the walls the engine knows, each
one's layout as miniature cells, what a dropped camera or a grid change makes of a layout, and the
operator's saved presets (name → layout).

Every change goes to the engine as a whole layout (``PUT /api/v1/walls/{id}``); the panel redraws from
what the engine answers and pushes (``wall.updated``), so several consoles always show the same walls.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from app.console.wall.model import GRIDS, Cell, big_map, grid_side, layout_cells, wall_from_event
from app.formats.api import LiveEvent, WallLayoutIn, WallOut

__all__ = ["PRESET_NAME_MAX", "WallControlModel"]

PRESET_NAME_MAX = 60


class WallControlModel:
    """Walls by id (the one selected in the panel too) and the operator's presets.

    ``version`` counts changes of the walls; presets have their own ``presets_version``.
    """

    def __init__(self) -> None:
        self.walls: dict[str, WallOut] = {}
        self.selected: str | None = None
        self.presets: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.presets_version = 0

    # ------------------------------------------------------------------ walls

    def wall_ids(self) -> list[str]:
        return sorted(self.walls)

    def wall(self, wall_id: str | None) -> WallOut | None:
        return self.walls.get(wall_id) if wall_id else None

    def reset(self, walls: list[WallOut]) -> None:
        """Everything the engine has (after a (re)connection); the selection stays when it still exists.

        A wall known here that is newer than the list (or not in it) stays: the list was read before a
        ``wall.updated`` that arrived while it travelled (the engine never deletes walls).
        """
        fresh = {w.id: w for w in walls}
        for wid, known in self.walls.items():
            listed = fresh.get(wid)
            if listed is None or known.updated_at > listed.updated_at:
                fresh[wid] = known
        self.walls = fresh
        if self.selected not in self.walls:
            self.selected = self.wall_ids()[0] if self.walls else None
        self.version += 1

    def upsert(self, wall: WallOut) -> bool:
        """An answer or a live event; an older layout than the one known is ignored."""
        known = self.walls.get(wall.id)
        if known is not None and (wall.updated_at < known.updated_at or wall == known):
            return False
        self.walls[wall.id] = wall
        if self.selected is None:
            self.selected = wall.id
        self.version += 1
        return True

    def apply_event(self, event: LiveEvent) -> bool:
        wall = wall_from_event(event)
        return wall is not None and self.upsert(wall)

    def select(self, wall_id: str | None) -> bool:
        if wall_id == self.selected or (wall_id is not None and wall_id not in self.walls):
            return False
        self.selected = wall_id
        self.version += 1
        return True

    def cells(self, wall_id: str) -> tuple[Cell, ...]:
        w = self.walls.get(wall_id)
        return layout_cells(w.grid, w.tiles, w.show_map) if w is not None else ()

    def can_release(self, wall_id: str | None) -> bool:
        w = self.wall(wall_id)
        return w is not None and w.has_previous

    # ------------------------------------------------------------------ layout edits

    @staticmethod
    def layout_of(wall: WallOut) -> WallLayoutIn:
        """The wall's layout as the engine takes it, with the cameras where the cells show them."""
        tiles = _slots(wall)
        return WallLayoutIn(grid=_grid(wall.grid), tiles=_trim(tiles), show_map=wall.show_map)

    def drop(self, wall_id: str, cell_index: int, camera_id: str) -> WallLayoutIn | None:
        """The layout after ``camera_id`` was dropped on a cell (None: nothing to do).

        On a camera or empty cell the camera takes that place; a camera already elsewhere on the wall swaps
        with it. On the map, the camera replaces the map (the wall stops showing it).
        """
        wall = self.walls.get(wall_id)
        cell = _cell(self.cells(wall_id), cell_index)
        if wall is None or cell is None:
            return None
        side = grid_side(wall.grid)
        tiles = _pad(_slots(wall), side * side)
        show_map = wall.show_map
        if cell.kind == "map":
            show_map = False
            if camera_id in tiles:
                return WallLayoutIn(grid=_grid(wall.grid), tiles=_trim(tiles), show_map=False)
            where = cell.index if not big_map(wall.grid, wall.tiles, wall.show_map) else _first_free(tiles)
            tiles[where] = camera_id
        else:
            slot = cell.slot if cell.slot is not None else cell.index
            if tiles[slot] == camera_id:
                return None
            if camera_id in tiles:
                tiles[tiles.index(camera_id)] = tiles[slot]
            tiles[slot] = camera_id
        return WallLayoutIn(grid=_grid(wall.grid), tiles=_trim(tiles), show_map=show_map)

    def clear(self, wall_id: str, cell_index: int) -> WallLayoutIn | None:
        """The layout without what a cell shows (a camera, or the map)."""
        wall = self.walls.get(wall_id)
        cell = _cell(self.cells(wall_id), cell_index)
        if wall is None or cell is None or cell.kind == "empty":
            return None
        tiles = _slots(wall)
        if cell.kind == "map":
            return WallLayoutIn(grid=_grid(wall.grid), tiles=_trim(tiles), show_map=False)
        slot = cell.slot if cell.slot is not None else cell.index
        if slot < len(tiles):
            tiles[slot] = None
        return WallLayoutIn(grid=_grid(wall.grid), tiles=_trim(tiles), show_map=wall.show_map)

    def with_grid(self, wall_id: str, grid: int) -> WallLayoutIn | None:
        """The layout on another grid (cameras beyond it leave the wall)."""
        wall = self.walls.get(wall_id)
        if wall is None or grid not in GRIDS:
            return None
        return WallLayoutIn(grid=_grid(grid), tiles=_trim(_slots(wall)[:grid]), show_map=wall.show_map)

    def area_layout(self, wall_id: str, camera_ids: list[str]) -> WallLayoutIn | None:
        """The layout that shows a drawn area's cameras (in the order given, nearest first) on a wall.

        The smallest grid that holds them all and the wall's map if it shows one (16 cells at most: the
        nearest 16 when there are more). None when the wall is unknown or there is no camera."""
        wall = self.walls.get(wall_id)
        ids = list(dict.fromkeys(c for c in camera_ids if c))[: GRIDS[-1]]
        if wall is None or not ids:
            return None
        need = min(len(ids) + (1 if wall.show_map else 0), GRIDS[-1])  # a cell for the map too
        grid = next(g for g in GRIDS if g >= need)
        return WallLayoutIn(grid=_grid(grid), tiles=list(ids), show_map=wall.show_map)

    # ------------------------------------------------------------------ presets

    def preset_names(self) -> list[str]:
        return sorted(self.presets, key=str.casefold)

    def save_preset(self, name: str, wall_id: str) -> bool:
        """Keep the wall's current layout under ``name`` (replacing a preset of that name)."""
        name = name.strip()[:PRESET_NAME_MAX]
        wall = self.walls.get(wall_id)
        if not name or wall is None:
            return False
        self.presets[name] = self.layout_of(wall).model_dump(mode="json")
        self.presets_version += 1
        return True

    def delete_preset(self, name: str) -> bool:
        if self.presets.pop(name, None) is None:
            return False
        self.presets_version += 1
        return True

    def preset_layout(self, name: str) -> WallLayoutIn | None:
        raw = self.presets.get(name)
        if raw is None:
            return None
        try:
            return WallLayoutIn.model_validate(raw)
        except ValidationError:
            return None

    def presets_json(self) -> str:
        return json.dumps(self.presets, ensure_ascii=False, sort_keys=True)

    def load_presets(self, text: object) -> None:
        """Presets saved by :meth:`presets_json`; anything unreadable is dropped."""
        self.presets = {}
        try:
            raw = json.loads(str(text)) if text else {}
        except ValueError:
            raw = {}
        if isinstance(raw, dict):
            for name, layout in raw.items():
                try:
                    self.presets[str(name)[:PRESET_NAME_MAX]] = WallLayoutIn.model_validate(
                        layout
                    ).model_dump(mode="json")
                except ValidationError:
                    continue
        self.presets_version += 1


def _grid(grid: int) -> Any:
    """The grid as the schema's literal type (1, 4, 9 or 16; anything else becomes 16)."""
    return grid if grid in GRIDS else 16


def _slots(wall: WallOut) -> list[str | None]:
    """The wall's cameras by slot: as stored, or closed up behind a big map (as its cells show them)."""
    n = grid_side(wall.grid) ** 2
    if big_map(wall.grid, wall.tiles, wall.show_map):
        return list(dict.fromkeys(t for t in wall.tiles[:n] if t))
    seen: set[str] = set()
    out: list[str | None] = []
    for t in wall.tiles[:n]:
        out.append(t if t and t not in seen else None)
        if t:
            seen.add(t)
    return out


def _pad(tiles: list[str | None], n: int) -> list[str | None]:
    return [*tiles, *([None] * (n - len(tiles)))][:n]


def _trim(tiles: list[str | None]) -> list[str | None]:
    out = list(tiles)
    while out and out[-1] is None:
        out.pop()
    return out


def _first_free(tiles: list[str | None]) -> int:
    for i, t in enumerate(tiles):
        if t is None:
            return i
    return len(tiles) - 1


def _cell(cells: tuple[Cell, ...], index: int) -> Cell | None:
    return next((c for c in cells if c.index == index), None)

"""The console's video wall, decided without a screen: 1/4/9/16 layouts, which camera is on which tile,
one tile maximised, and "put all the incident's cameras on the wall"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["LAYOUTS", "WallLayoutVM", "grid_shape", "layout_for"]

LAYOUTS: tuple[int, ...] = (1, 4, 9, 16)


def grid_shape(layout: int) -> tuple[int, int]:
    """(rows, columns) of a layout."""
    side = {1: 1, 4: 2, 9: 3, 16: 4}[layout]
    return side, side


def layout_for(count: int) -> int:
    """The smallest layout that shows ``count`` tiles (16 at most)."""
    for n in LAYOUTS:
        if count <= n:
            return n
    return LAYOUTS[-1]


class WallLayoutVM:
    """Tiles ``0 … layout-1``, each with a camera id or None. ``version`` counts changes.

    A camera is on at most one tile: assigning it to another tile moves it (swapping with what was there).
    """

    def __init__(self, layout: int = 4) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        self._layout = layout
        self._tiles: list[str | None] = [None] * LAYOUTS[-1]
        self._maximised: int | None = None
        self.version = 0

    @property
    def layout(self) -> int:
        return self._layout

    @property
    def tiles(self) -> list[str | None]:
        """The visible tiles' cameras."""
        return self._tiles[: self._layout]

    @property
    def maximised(self) -> int | None:
        return self._maximised

    def camera_at(self, index: int) -> str | None:
        return self._tiles[index] if 0 <= index < self._layout else None

    def index_of(self, camera_id: str) -> int | None:
        for i, c in enumerate(self.tiles):
            if c == camera_id:
                return i
        return None

    def set_layout(self, layout: int) -> None:
        """Change the grid; tiles beyond it keep their camera (hidden, not playing) until it grows again."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        if layout != self._layout:
            self._layout = layout
            if self._maximised is not None and self._maximised >= layout:
                self._maximised = None
            self._changed()

    def assign(self, index: int, camera_id: str) -> None:
        if not 0 <= index < self._layout:
            raise IndexError(index)
        where = next((i for i, c in enumerate(self._tiles) if c == camera_id), None)
        if where == index:
            return
        if where is not None:
            self._tiles[where] = self._tiles[index]
        self._tiles[index] = camera_id
        self._changed()

    def clear(self, index: int) -> None:
        if 0 <= index < len(self._tiles) and self._tiles[index] is not None:
            self._tiles[index] = None
            if self._maximised == index:
                self._maximised = None
            self._changed()

    def clear_all(self) -> None:
        self._tiles = [None] * LAYOUTS[-1]
        self._maximised = None
        self._changed()

    def put_cameras(self, camera_ids: Sequence[str]) -> None:
        """Show these cameras (an incident's), in order, on the smallest layout that holds them (16 at most);
        other tiles are emptied."""
        ids = list(dict.fromkeys(camera_ids))[: LAYOUTS[-1]]
        self._layout = layout_for(max(1, len(ids)))
        self._tiles = [*ids, *([None] * (LAYOUTS[-1] - len(ids)))]
        self._maximised = None
        self._changed()

    def first_free(self) -> int | None:
        for i, c in enumerate(self.tiles):
            if c is None:
                return i
        return None

    def add_camera(self, camera_id: str) -> int:
        """Put a camera on the first free tile (growing the layout if needed, else replacing the last)."""
        existing = self.index_of(camera_id)
        if existing is not None:
            return existing
        free = self.first_free()
        if free is None and self._layout < LAYOUTS[-1]:
            self._layout = layout_for(self._layout + 1)
            free = self.first_free()
        index = free if free is not None else self._layout - 1
        self.assign(index, camera_id)
        return index

    def toggle_maximise(self, index: int) -> None:
        if not 0 <= index < self._layout:
            return
        self._maximised = None if self._maximised == index else index
        self._changed()

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        return {"layout": self._layout, "tiles": list(self._tiles)}

    @classmethod
    def from_dict(cls, data: Any, known: Iterable[str] | None = None) -> WallLayoutVM:
        """Restore a saved wall; unknown cameras (when ``known`` is given) and bad values are dropped."""
        vm = cls()
        try:
            layout = int(data.get("layout", 4))
            tiles = list(data.get("tiles", []))
        except (AttributeError, TypeError, ValueError):
            return vm
        if layout in LAYOUTS:
            vm._layout = layout
        allowed = set(known) if known is not None else None
        seen: set[str] = set()
        for i, c in enumerate(tiles[: LAYOUTS[-1]]):
            if isinstance(c, str) and c not in seen and (allowed is None or c in allowed):
                vm._tiles[i] = c
                seen.add(c)
        return vm

    def _changed(self) -> None:
        self.version += 1

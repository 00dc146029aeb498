"""A spatial index of cameras: exact k-nearest and area queries in pure Python.

The index is a uniform latitude/longitude grid (cells of about ``cell_m`` metres at the latitude of the
cameras it was built with, sized so that 180 and 360 degrees divide evenly). A nearest query scans
rings of cells around the query's cell; after each ring it computes a lower bound of the distance to
any camera outside the rings scanned so far (distance to the box's parallels and meridians, which are
great circles or bounded by them) and stops as soon as that bound exceeds the radius or the k-th
distance found. The answer is therefore exact: the same cameras, in the same order and with the same
floating-point distances as a brute-force scan with `app.domain.geo.distance_m` (ties by id). When the
rings would cover more cells than are occupied (sparse data, huge radii, the antimeridian), the query
falls back to a scan of the occupied cells, which is still exact.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.domain.camera import Camera
from app.domain.enums import Purpose
from app.domain.geo import (
    EARTH_RADIUS_M,
    Area,
    Circle,
    GeoPoint,
    Polygon,
    PreparedPolygon,
    area_centroid,
    haversine_from_radians,
)

_Cell = tuple[int, int]
# One indexed camera: (lat radians, lon radians, cos lat, camera).
_Entry = tuple[float, float, float, Camera]

_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
_EPS_M = 1e-6


@dataclass(frozen=True, slots=True)
class _Grid:
    n_lat: int
    n_lon: int
    d_lat: float
    d_lon: float

    def cell(self, lat: float, lon: float) -> _Cell:
        i = min(self.n_lat - 1, max(0, int((lat + 90.0) / self.d_lat)))
        j = min(self.n_lon - 1, max(0, int((lon + 180.0) / self.d_lon)))
        return i, j


def _make_grid(cell_m: float, ref_lat: float) -> _Grid:
    d_lat_target = cell_m / _M_PER_DEG
    n_lat = max(1, round(180.0 / d_lat_target))
    cos_ref = max(0.01, math.cos(math.radians(ref_lat)))
    n_lon = max(1, round(360.0 / (d_lat_target / cos_ref)))
    return _Grid(n_lat, n_lon, 180.0 / n_lat, 360.0 / n_lon)


class CameraIndex:
    """Cameras by id and by position. Not thread-safe: one owner mutates it, or copy it per thread.

    ``cell_m`` only tunes speed (about 200 m suits cities with tens of cameras per km²).
    """

    def __init__(self, cameras: Iterable[Camera] = (), *, cell_m: float = 200.0) -> None:
        if not (math.isfinite(cell_m) and cell_m > 0.0):
            raise ValueError(f"cell_m must be a positive number, got {cell_m!r}")
        cams = list(cameras)
        lats = sorted(c.lat for c in cams)
        ref_lat = lats[len(lats) // 2] if lats else 0.0
        self._grid = _make_grid(cell_m, ref_lat)
        self._by_id: dict[str, Camera] = {}
        self._cells: dict[_Cell, list[_Entry]] = {}
        self._cell_of: dict[str, _Cell] = {}
        for cam in cams:
            self.upsert(cam)

    # -- mapping -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._by_id

    def __iter__(self) -> Iterator[Camera]:
        return iter(list(self._by_id.values()))

    def get(self, camera_id: str) -> Camera | None:
        return self._by_id.get(camera_id)

    def upsert(self, camera: Camera) -> None:
        """Add a camera, or replace the one with the same id (it may have moved).

        Raises ValueError for a camera whose coordinates are not a valid position.
        """
        GeoPoint(camera.lat, camera.lon)  # validates
        if camera.id in self._by_id:
            self.remove(camera.id)
        cell = self._grid.cell(camera.lat, camera.lon)
        lat_r = math.radians(camera.lat)
        entry: _Entry = (lat_r, math.radians(camera.lon), math.cos(lat_r), camera)
        self._cells.setdefault(cell, []).append(entry)
        self._cell_of[camera.id] = cell
        self._by_id[camera.id] = camera

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; False when there was none with that id."""
        if camera_id not in self._by_id:
            return False
        del self._by_id[camera_id]
        cell = self._cell_of.pop(camera_id)
        entries = self._cells[cell]
        entries[:] = [e for e in entries if e[3].id != camera_id]
        if not entries:
            del self._cells[cell]
        return True

    # -- queries -------------------------------------------------------------------------------------

    def nearest(
        self,
        point: GeoPoint,
        k: int,
        radius_m: float = math.inf,
        purposes: frozenset[Purpose] | None = None,
    ) -> list[tuple[Camera, float]]:
        """The ``k`` cameras nearest to ``point`` within ``radius_m`` (inclusive), as (camera, metres),
        sorted by distance then id; only cameras whose purpose is in ``purposes`` when it is given."""
        if k <= 0 or not self._by_id or radius_m < 0.0 or math.isnan(radius_m):
            return []
        grid = self._grid
        i0, j0 = grid.cell(point.lat, point.lon)
        qlat = math.radians(point.lat)
        qlon = math.radians(point.lon)
        qcos = math.cos(qlat)
        best: list[tuple[float, str, Camera]] = []
        if k >= len(self._by_id):
            k = -1  # every match is wanted: no pruning by the k-th distance
        n_occupied = len(self._cells)
        cells = self._cells
        r = 0
        while True:
            # Once the rings span more cells than are occupied, a scan of the occupied ones is cheaper.
            if (2 * r + 1) ** 2 > 4 * n_occupied or 2 * r + 1 > grid.n_lon:
                self._scan_rest(best, k, radius_m, purposes, i0, j0, r, qlat, qlon, qcos)
                break
            for cell in _ring(i0, j0, r, grid.n_lat, grid.n_lon):
                entries = cells.get(cell)
                if entries:
                    _collect(best, k, radius_m, purposes, entries, qlat, qlon, qcos)
            bound = _outside_bound(point, i0, j0, r, grid)
            if bound > radius_m:
                break
            if 0 <= k <= len(best) and bound > best[-1][0]:
                break
            r += 1
        if k < 0:
            best.sort(key=_key)
        return [(cam, d) for d, _, cam in best]

    def within(self, area: Area, purposes: frozenset[Purpose] | None = None) -> list[tuple[Camera, float]]:
        """Cameras inside ``area`` as (camera, metres to the area's centroid), sorted by that distance
        then id."""
        centroid = area_centroid(area)
        if isinstance(area, Circle):
            return self.nearest(area.center, len(self._by_id), area.radius_m, purposes)
        box = area.bbox()
        grid = self._grid
        i_lo, j_lo = grid.cell(box.south, box.west)
        i_hi, j_hi = grid.cell(box.north, box.east)
        n_box = (i_hi - i_lo + 1) * (j_hi - j_lo + 1)
        if n_box <= len(self._cells):
            candidates = (
                self._cells.get((i, j)) for i in range(i_lo, i_hi + 1) for j in range(j_lo, j_hi + 1)
            )
        else:
            candidates = (
                entries for (i, j), entries in self._cells.items() if i_lo <= i <= i_hi and j_lo <= j <= j_hi
            )
        clat = math.radians(centroid.lat)
        clon = math.radians(centroid.lon)
        ccos = math.cos(clat)
        # A polygon with many vertices (a CAP alert, a district) is tested edge band by edge band.
        shape: Polygon | PreparedPolygon = PreparedPolygon(area) if len(area.points) > 16 else area
        found: list[tuple[float, str, Camera]] = []
        for entries in candidates:
            if not entries:
                continue
            for lat_r, lon_r, cos_r, cam in entries:
                if purposes is not None and cam.purpose not in purposes:
                    continue
                if not box.south <= cam.lat <= box.north or not box.west <= cam.lon <= box.east:
                    continue
                if not shape.contains(GeoPoint(cam.lat, cam.lon)):
                    continue
                d = haversine_from_radians(clat, clon, ccos, lat_r, lon_r, cos_r)
                found.append((d, cam.id, cam))
        found.sort(key=_key)
        return [(cam, d) for d, _, cam in found]

    # -- internals -----------------------------------------------------------------------------------

    def _scan_rest(
        self,
        best: list[tuple[float, str, Camera]],
        k: int,
        radius_m: float,
        purposes: frozenset[Purpose] | None,
        i0: int,
        j0: int,
        r: int,
        qlat: float,
        qlon: float,
        qcos: float,
    ) -> None:
        """Scan every occupied cell not yet visited (ring distance >= r)."""
        n_lon = self._grid.n_lon
        for (i, j), entries in self._cells.items():
            dj = abs(j - j0)
            dj = min(dj, n_lon - dj)
            if max(abs(i - i0), dj) >= r:
                _collect(best, k, radius_m, purposes, entries, qlat, qlon, qcos)


def _key(item: tuple[float, str, Camera]) -> tuple[float, str]:
    return item[0], item[1]


def _collect(
    best: list[tuple[float, str, Camera]],
    k: int,
    radius_m: float,
    purposes: frozenset[Purpose] | None,
    entries: list[_Entry],
    qlat: float,
    qlon: float,
    qcos: float,
) -> None:
    """Merge the matching entries into ``best`` (sorted by (distance, id), at most k long); with k < 0
    append every match unsorted."""
    for lat_r, lon_r, cos_r, cam in entries:
        if purposes is not None and cam.purpose not in purposes:
            continue
        d = haversine_from_radians(qlat, qlon, qcos, lat_r, lon_r, cos_r)
        if d > radius_m:
            continue
        if k < 0:  # unbounded: sorted once at the end
            best.append((d, cam.id, cam))
            continue
        if len(best) >= k:
            last = best[-1]
            if d > last[0] or (d == last[0] and cam.id >= last[1]):
                continue
            best.pop()
        bisect.insort(best, (d, cam.id, cam), key=_key)


def _ring(i0: int, j0: int, r: int, n_lat: int, n_lon: int) -> Iterator[_Cell]:
    """Cells at Chebyshev distance exactly ``r`` from (i0, j0); longitude wraps, latitude clips.

    Callers guarantee 2r + 1 <= n_lon, so no cell is produced twice.
    """
    if r == 0:
        yield i0, j0
        return
    for di in (-r, r):
        i = i0 + di
        if 0 <= i < n_lat:
            for dj in range(-r, r + 1):
                yield i, (j0 + dj) % n_lon
    for i in range(max(0, i0 - r + 1), min(n_lat, i0 + r)):
        yield i, (j0 - r) % n_lon
        yield i, (j0 + r) % n_lon


def _outside_bound(point: GeoPoint, i0: int, j0: int, r: int, grid: _Grid) -> float:
    """A lower bound, metres, of the distance from ``point`` to any position outside the cells within
    Chebyshev distance ``r`` of (i0, j0)."""
    lat = point.lat
    bounds: list[float] = []
    north = (i0 + r + 1) * grid.d_lat - 90.0
    if north < 90.0:
        bounds.append((north - lat) * _M_PER_DEG)
    south = (i0 - r) * grid.d_lat - 90.0
    if south > -90.0:
        bounds.append((lat - south) * _M_PER_DEG)
    if 2 * r + 1 < grid.n_lon:
        lon_x = point.lon + 180.0
        cos_lat = math.cos(math.radians(lat))
        for d_lon in ((j0 + r + 1) * grid.d_lon - lon_x, lon_x - (j0 - r) * grid.d_lon):
            if d_lon >= 90.0:
                # The nearest point of that half meridian is the nearer pole.
                bounds.append((90.0 - abs(lat)) * _M_PER_DEG)
            else:
                s = min(1.0, cos_lat * math.sin(math.radians(d_lon)))
                bounds.append(EARTH_RADIUS_M * math.asin(s))
    if not bounds:
        return math.inf
    return min(bounds) * (1.0 - 1e-9) - _EPS_M

"""Which cameras to show for an incident.

One ranking rule, used by every selector unless it says otherwise: cameras whose known direction and
field of view cover the point come first, then the rest (unknown direction, or pointed elsewhere), each
group by distance; equal distances by camera id. Every function is deterministic.

Cameras flagged ``approximate`` (their register gives a stand-in position: an area centroid, a point
shared by many addresses) are never chosen as nearest, escape-route or child-protection cameras; in an
area they come after every exact camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.domain.camera import Camera
from app.domain.camera_index import CameraIndex
from app.domain.enums import Purpose
from app.domain.geo import (
    Area,
    GeoPoint,
    angle_diff_deg,
    area_centroid,
    bearing_deg,
    in_field_of_view,
)

DEFAULT_FOV_RANGE_M = 150.0
"""How far a camera is taken to see a point in its field of view (metres)."""


@dataclass(frozen=True, slots=True)
class Chosen:
    """A camera picked for a point: its distance to the point and whether its known view covers it."""

    camera: Camera
    distance_m: float
    covers_point: bool


def camera_covers(camera: Camera, point: GeoPoint, max_range_m: float = DEFAULT_FOV_RANGE_M) -> bool:
    """Whether the camera's known direction and field of view cover ``point``.

    False when the field of view is unknown, or when the direction is unknown and the field of view is
    under 360 degrees.
    """
    fov = camera.fov_deg
    if fov is None:
        return False
    direction = camera.direction_deg
    if direction is None:
        if fov < 360.0:
            return False
        direction = 0.0
    return in_field_of_view(GeoPoint(camera.lat, camera.lon), direction, fov, point, max_range_m)


def _rank(found: list[tuple[Camera, float]], point: GeoPoint, fov_range_m: float) -> list[Chosen]:
    chosen = [Chosen(cam, d, camera_covers(cam, point, fov_range_m)) for cam, d in found]
    chosen.sort(key=lambda c: (c.camera.approximate, not c.covers_point, c.distance_m, c.camera.id))
    return chosen


def _exact(found: list[tuple[Camera, float]]) -> list[tuple[Camera, float]]:
    """Cameras whose position is their own (a stand-in position is never "nearest")."""
    return [(cam, d) for cam, d in found if not cam.approximate]


def select_nearest(
    index: CameraIndex,
    point: GeoPoint,
    k: int = 4,
    radius_m: float = 500.0,
    purposes: frozenset[Purpose] | None = None,
    *,
    fov_range_m: float = DEFAULT_FOV_RANGE_M,
) -> list[Chosen]:
    """Up to ``k`` cameras within ``radius_m`` of ``point``: covering ones first, then by distance."""
    if k <= 0:
        return []
    # Covering cameras come first whatever their distance, but a camera covers only within fov_range_m: every
    # camera that may cover is within that range (a metre more for rounding), and of the others only the
    # nearest exact ones can make the first k. So: every camera within the covering range, and the m nearest
    # within the radius, m growing until k exact cameras are among them (or every camera in the radius is)
    # — the same answer as ranking every camera in the radius, without visiting them all (issue 17).
    near = index.nearest(point, len(index), min(radius_m, fov_range_m + 1.0), purposes)
    m = 2 * k
    while True:
        nearest = index.nearest(point, m, radius_m, purposes)
        if len(nearest) < m or sum(1 for cam, _ in nearest if not cam.approximate) >= k:
            break
        m *= 4
    found = {cam.id: (cam, d) for cam, d in (*near, *nearest)}
    return _rank(_exact(list(found.values())), point, fov_range_m)[:k]


def select_in_area(
    index: CameraIndex,
    area: Area,
    purposes: frozenset[Purpose] | None = None,
    limit: int | None = None,
    *,
    fov_range_m: float = DEFAULT_FOV_RANGE_M,
) -> list[Chosen]:
    """Cameras inside ``area``, ranked against its centroid (covering it first, then by distance to
    it); at most ``limit`` when given."""
    centroid = area_centroid(area)
    ranked = _rank(index.within(area, purposes), centroid, fov_range_m)
    return ranked if limit is None else ranked[: max(0, limit)]


def select_for_vulnerable(
    index: CameraIndex,
    point: GeoPoint,
    k: int = 4,
    radius_m: float = 500.0,
    *,
    fov_range_m: float = DEFAULT_FOV_RANGE_M,
) -> list[Chosen]:
    """For a vulnerable person's SOS: child-protection cameras first, then any other camera; within
    each group the usual ranking (covering first, then distance)."""
    if k <= 0:
        return []
    ranked = _rank(_exact(index.nearest(point, len(index), radius_m)), point, fov_range_m)
    ranked.sort(key=lambda c: c.camera.purpose is not Purpose.CHILD_PROTECTION)  # stable
    return ranked[:k]


def select_escape_ring(
    index: CameraIndex,
    point: GeoPoint,
    inner_m: float,
    outer_m: float,
    k: int,
    purposes: frozenset[Purpose] | None = None,
    *,
    fov_range_m: float = DEFAULT_FOV_RANGE_M,
) -> list[Chosen]:
    """Up to ``k`` cameras in the ring ``inner_m <= distance <= outer_m`` around ``point``, spread over
    as many directions as the ring offers (escape routes away from a 112 incident).

    Greedy farthest-bearing choice: the nearest camera in the ring first, then each time the camera
    whose bearing is farthest from those already chosen. Angular gaps are compared in steps of a
    quarter of the ideal spacing (360 / 4k degrees), so among cameras that widen the spread about
    equally the nearer one wins (then the smaller id). The result is ordered by bearing clockwise
    from north.
    """
    if k <= 0 or outer_m < inner_m:
        return []
    ring = [
        (cam, d) for cam, d in _exact(index.nearest(point, len(index), outer_m, purposes)) if d >= inner_m
    ]
    bearings = {cam.id: bearing_deg(point, GeoPoint(cam.lat, cam.lon)) for cam, _ in ring}
    step = 360.0 / (4 * k)
    picked: list[tuple[Camera, float]] = []
    rest = list(ring)  # sorted by (distance, id): the first is the nearest
    gaps = [360.0] * len(rest)  # smallest angular gap from each remaining camera to those picked
    while rest and len(picked) < k:
        best = min(range(len(rest)), key=lambda i: (-math.floor(gaps[i] / step), rest[i][1], rest[i][0].id))
        cam, d = rest.pop(best)
        del gaps[best]
        picked.append((cam, d))
        for i, (other, _) in enumerate(rest):
            gaps[i] = min(gaps[i], angle_diff_deg(bearings[other.id], bearings[cam.id]))
    chosen = [Chosen(cam, d, camera_covers(cam, point, fov_range_m)) for cam, d in picked]
    chosen.sort(key=lambda c: (bearings[c.camera.id], c.camera.id))
    return chosen

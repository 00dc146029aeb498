"""Geography on the sphere at city scale: points, distances, bearings, areas, camera field of view.

Distances are great-circle (haversine) on a sphere of the mean Earth radius; at city scale the error
against the ellipsoid is under 0.5 %, far below a camera's placement error. Polygons are tested in the
plane of latitude and longitude (ray casting), which is exact enough for areas a few kilometres wide
and not meant for polygons that cross the antimeridian or contain a pole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""


def lat_lon_problem(lat: float, lon: float) -> str | None:
    """Why ``(lat, lon)`` is not a usable WGS84 position, or None when it is."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return f"coordinates must be finite numbers, got lat={lat!r}, lon={lon!r}"
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat!r} is outside [-90, 90]"
    if not -180.0 <= lon <= 180.0:
        return f"longitude {lon!r} is outside [-180, 180]"
    return None


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 position in degrees. Construction raises ValueError for out-of-range coordinates."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        problem = lat_lon_problem(self.lat, self.lon)
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def checked(cls, lat: float, lon: float) -> GeoPoint | None:
        """The point, or None when the coordinates are not usable (no exception)."""
        if lat_lon_problem(lat, lon) is not None:
            return None
        return cls(lat, lon)


def haversine_from_radians(
    lat1: float, lon1: float, cos_lat1: float, lat2: float, lon2: float, cos_lat2: float
) -> float:
    """Great-circle distance in metres from coordinates already in radians (with their cosines).

    The single implementation of the formula: `distance_m` and the camera index both call it, so a
    distance from the index is bit-for-bit the one `distance_m` gives.
    """
    s_lat = math.sin((lat2 - lat1) * 0.5)
    s_lon = math.sin((lon2 - lon1) * 0.5)
    h = s_lat * s_lat + cos_lat1 * cos_lat2 * s_lon * s_lon
    if h > 1.0:
        h = 1.0
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points, metres."""
    lat1 = math.radians(a.lat)
    lat2 = math.radians(b.lat)
    return haversine_from_radians(
        lat1, math.radians(a.lon), math.cos(lat1), lat2, math.radians(b.lon), math.cos(lat2)
    )


def bearing_deg(a: GeoPoint, b: GeoPoint) -> float:
    """Initial bearing from ``a`` towards ``b``, degrees in [0, 360), 0 = north, clockwise.

    0.0 when the points coincide.
    """
    lat1 = math.radians(a.lat)
    lat2 = math.radians(b.lat)
    d_lon = math.radians(b.lon - a.lon)
    y = math.sin(d_lon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(d_lon)
    if x == 0.0 and y == 0.0:
        return 0.0
    deg = math.degrees(math.atan2(y, x)) % 360.0
    return 0.0 if deg >= 360.0 else deg


def offset(start: GeoPoint, bearing: float, distance: float) -> GeoPoint:
    """The point ``distance`` metres from ``start`` along the initial bearing ``bearing`` degrees."""
    ang = distance / EARTH_RADIUS_M
    lat1 = math.radians(start.lat)
    lon1 = math.radians(start.lon)
    brg = math.radians(bearing)
    sin_lat2 = math.sin(lat1) * math.cos(ang) + math.cos(lat1) * math.sin(ang) * math.cos(brg)
    lat2 = math.asin(max(-1.0, min(1.0, sin_lat2)))
    lon2 = lon1 + math.atan2(
        math.sin(brg) * math.sin(ang) * math.cos(lat1), math.cos(ang) - math.sin(lat1) * sin_lat2
    )
    lon_deg = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return GeoPoint(max(-90.0, min(90.0, math.degrees(lat2))), lon_deg)


def angle_diff_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two bearings, degrees in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


@dataclass(frozen=True, slots=True)
class BBox:
    """A latitude/longitude box, degrees (south <= north, west <= east)."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, point: GeoPoint) -> bool:
        return self.south <= point.lat <= self.north and self.west <= point.lon <= self.east


@dataclass(frozen=True, slots=True)
class Circle:
    """A disc on the ground: every point within ``radius_m`` of ``center``."""

    center: GeoPoint
    radius_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m >= 0.0):
            raise ValueError(f"circle radius must be a finite number >= 0, got {self.radius_m!r}")

    def contains(self, point: GeoPoint) -> bool:
        return distance_m(self.center, point) <= self.radius_m

    def bbox(self) -> BBox:
        """A box that contains the whole circle (exact for a spherical cap, clamped at the poles)."""
        ang = self.radius_m / EARTH_RADIUS_M
        d_lat = math.degrees(ang)
        south = max(-90.0, self.center.lat - d_lat)
        north = min(90.0, self.center.lat + d_lat)
        cos_lat = math.cos(math.radians(self.center.lat))
        if south <= -90.0 or north >= 90.0 or ang >= math.pi / 2 or math.sin(ang) >= cos_lat:
            return BBox(south, -180.0, north, 180.0)
        d_lon = math.degrees(math.asin(math.sin(ang) / cos_lat))
        return BBox(south, max(-180.0, self.center.lon - d_lon), north, min(180.0, self.center.lon + d_lon))


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon given by its vertices (open or closed ring, either orientation).

    Raises ValueError with fewer than three distinct vertices or a zero area.
    """

    points: tuple[GeoPoint, ...]

    def __post_init__(self) -> None:
        if len(set(self.points)) < 3:
            raise ValueError(f"a polygon needs at least 3 distinct points, got {len(set(self.points))}")
        if _signed_area2(self.points) == 0.0:
            raise ValueError("polygon has zero area (all points on one line)")

    def contains(self, point: GeoPoint) -> bool:
        """Whether ``point`` is inside (ray casting in the lat/lon plane; edges count as inside)."""
        x, y = point.lon, point.lat
        pts = self.points
        inside = False
        n = len(pts)
        j = n - 1
        for i in range(n):
            xi, yi = pts[i].lon, pts[i].lat
            xj, yj = pts[j].lon, pts[j].lat
            # On the edge (collinear and within the segment's box): inside.
            if (
                min(yi, yj) <= y <= max(yi, yj)
                and min(xi, xj) <= x <= max(xi, xj)
                and (xj - xi) * (y - yi) == (yj - yi) * (x - xi)
            ):
                return True
            if (yi > y) != (yj > y):
                x_cross = xi + (y - yi) * (xj - xi) / (yj - yi)
                if x < x_cross:
                    inside = not inside
            j = i
        return inside

    def bbox(self) -> BBox:
        lats = [p.lat for p in self.points]
        lons = [p.lon for p in self.points]
        return BBox(min(lats), min(lons), max(lats), max(lons))


Area = Circle | Polygon


class PreparedPolygon:
    """A polygon made ready for testing many points: its edges filed into horizontal bands, so a point
    is tested against the few edges that span its latitude instead of every edge. Answers exactly as
    :meth:`Polygon.contains` (only edges whose latitude range holds the point's can change the answer)."""

    __slots__ = ("_bands", "_h", "_n", "_y0")

    def __init__(self, polygon: Polygon) -> None:
        pts = polygon.points
        n = len(pts)
        ys = [p.lat for p in pts]
        self._y0 = min(ys)
        span = max(ys) - self._y0
        self._n = max(1, n)
        self._h = span / self._n if span > 0 else 1.0
        self._bands: list[list[tuple[float, float, float, float]]] = [[] for _ in range(self._n)]
        j = n - 1
        for i in range(n):
            edge = (pts[i].lon, pts[i].lat, pts[j].lon, pts[j].lat)
            lo, hi = self._band(min(edge[1], edge[3])), self._band(max(edge[1], edge[3]))
            for b in range(lo, hi + 1):
                self._bands[b].append(edge)
            j = i
        # Ray casting must see the edges in ring order only for the on-edge test, which returns at once,
        # and for the parity, which does not depend on order.

    def _band(self, y: float) -> int:
        return min(self._n - 1, max(0, int((y - self._y0) / self._h)))

    def contains(self, point: GeoPoint) -> bool:
        x, y = point.lon, point.lat
        if y < self._y0 or not self._bands:
            return False
        inside = False
        for xi, yi, xj, yj in self._bands[self._band(y)]:
            if not (min(yi, yj) <= y <= max(yi, yj)):
                continue
            if min(xi, xj) <= x <= max(xi, xj) and (xj - xi) * (y - yi) == (yj - yi) * (x - xi):
                return True
            if (yi > y) != (yj > y):
                x_cross = xi + (y - yi) * (xj - xi) / (yj - yi)
                if x < x_cross:
                    inside = not inside
        return inside


def _signed_area2(points: tuple[GeoPoint, ...]) -> float:
    """Twice the signed area in the lon/lat plane (shoelace)."""
    total = 0.0
    n = len(points)
    for i in range(n):
        a = points[i]
        b = points[(i + 1) % n]
        total += a.lon * b.lat - b.lon * a.lat
    return total


def area_centroid(area: Area) -> GeoPoint:
    """The centre of a circle, or the area centroid of a polygon (in the lon/lat plane)."""
    if isinstance(area, Circle):
        return area.center
    pts = area.points
    a2 = _signed_area2(pts)
    # Shift to the first vertex so the sums stay well conditioned far from (0, 0).
    x0, y0 = pts[0].lon, pts[0].lat
    cx = cy = 0.0
    n = len(pts)
    for i in range(n):
        xa, ya = pts[i].lon - x0, pts[i].lat - y0
        xb, yb = pts[(i + 1) % n].lon - x0, pts[(i + 1) % n].lat - y0
        cross = xa * yb - xb * ya
        cx += (xa + xb) * cross
        cy += (ya + yb) * cross
    lat = y0 + cy / (3.0 * a2)
    lon = x0 + cx / (3.0 * a2)
    return GeoPoint(min(90.0, max(-90.0, lat)), min(180.0, max(-180.0, lon)))


def in_field_of_view(
    camera_point: GeoPoint,
    direction_deg: float,
    fov_deg: float,
    target: GeoPoint,
    max_range_m: float = 150.0,
) -> bool:
    """Whether a camera at ``camera_point`` looking at ``direction_deg`` (0 = north, clockwise) with a
    horizontal field of view of ``fov_deg`` sees ``target`` within ``max_range_m``.

    A target on the camera's own position counts as seen; a field of view of 360 degrees or more sees
    every direction.
    """
    d = distance_m(camera_point, target)
    if d > max_range_m:
        return False
    if d == 0.0 or fov_deg >= 360.0:
        return True
    if fov_deg <= 0.0:
        return False
    return angle_diff_deg(bearing_deg(camera_point, target), direction_deg) <= fov_deg / 2.0

"""Geography: distances, bearings, areas, field of view."""

from __future__ import annotations

import math
import random

import pytest

from app.domain.geo import (
    EARTH_RADIUS_M,
    BBox,
    Circle,
    GeoPoint,
    Polygon,
    angle_diff_deg,
    area_centroid,
    bearing_deg,
    distance_m,
    in_field_of_view,
    lat_lon_problem,
    offset,
)

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ModuleNotFoundError:  # hypothesis is optional: the seeded tests below cover the same ground
    given = None

JINJU = GeoPoint(35.18, 128.08)
DEG_M = EARTH_RADIUS_M * math.pi / 180.0


def test_geopoint_validates() -> None:
    assert GeoPoint(90.0, -180.0).lat == 90.0
    for lat, lon in [
        (90.1, 0.0),
        (-91.0, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (math.nan, 0.0),
        (0.0, math.inf),
    ]:
        with pytest.raises(ValueError):
            GeoPoint(lat, lon)
        assert GeoPoint.checked(lat, lon) is None
        assert lat_lon_problem(lat, lon) is not None
    assert GeoPoint.checked(35.0, 128.0) == GeoPoint(35.0, 128.0)
    assert "latitude" in (lat_lon_problem(95.0, 0.0) or "")


def test_distance_known_values() -> None:
    assert distance_m(GeoPoint(0, 0), GeoPoint(1, 0)) == pytest.approx(DEG_M, rel=1e-12)
    assert distance_m(GeoPoint(0, 0), GeoPoint(0, 90)) == pytest.approx(EARTH_RADIUS_M * math.pi / 2)
    assert distance_m(GeoPoint(90, 0), GeoPoint(-90, 0)) == pytest.approx(EARTH_RADIUS_M * math.pi)
    assert distance_m(JINJU, JINJU) == 0.0
    # Seoul City Hall to Busan City Hall: about 325 km.
    seoul, busan = GeoPoint(37.5663, 126.9779), GeoPoint(35.1798, 129.0750)
    assert 320_000 < distance_m(seoul, busan) < 330_000
    # Across the antimeridian.
    assert distance_m(GeoPoint(0, 179.9), GeoPoint(0, -179.9)) == pytest.approx(0.2 * DEG_M)


def test_bearing_cardinal_directions() -> None:
    assert bearing_deg(JINJU, GeoPoint(35.19, 128.08)) == pytest.approx(0.0)
    assert bearing_deg(JINJU, GeoPoint(35.18, 128.09)) == pytest.approx(90.0, abs=0.01)
    assert bearing_deg(JINJU, GeoPoint(35.17, 128.08)) == pytest.approx(180.0)
    assert bearing_deg(JINJU, GeoPoint(35.18, 128.07)) == pytest.approx(270.0, abs=0.01)
    assert bearing_deg(JINJU, JINJU) == 0.0
    assert angle_diff_deg(350.0, 10.0) == pytest.approx(20.0)
    assert angle_diff_deg(10.0, 190.0) == pytest.approx(180.0)


def test_offset_round_trip_seeded() -> None:
    rng = random.Random(7)
    for _ in range(500):
        start = GeoPoint(rng.uniform(-60, 60), rng.uniform(-180, 180))
        brg, dist = rng.uniform(0, 360), rng.uniform(1, 20_000)
        end = offset(start, brg, dist)
        assert distance_m(start, end) == pytest.approx(dist, rel=1e-6)
        assert angle_diff_deg(bearing_deg(start, end), brg) < 1e-4


def test_circle_contains_and_bbox() -> None:
    circle = Circle(JINJU, 500.0)
    assert circle.contains(JINJU)
    assert circle.contains(offset(JINJU, 45.0, 499.0))
    assert not circle.contains(offset(JINJU, 45.0, 501.0))
    box = circle.bbox()
    for brg in range(0, 360, 5):
        assert box.contains(offset(JINJU, brg, 499.999))
    assert box.north - box.south == pytest.approx(2 * 500.0 / DEG_M)
    with pytest.raises(ValueError):
        Circle(JINJU, -1.0)
    with pytest.raises(ValueError):
        Circle(JINJU, math.nan)
    polar = Circle(GeoPoint(89.999, 0.0), 1000.0).bbox()
    assert (polar.west, polar.east, polar.north) == (-180.0, 180.0, 90.0)


def square(lat: float, lon: float, half: float) -> Polygon:
    return Polygon(
        (
            GeoPoint(lat - half, lon - half),
            GeoPoint(lat - half, lon + half),
            GeoPoint(lat + half, lon + half),
            GeoPoint(lat + half, lon - half),
        )
    )


def test_polygon_contains_square_and_concave() -> None:
    sq = square(35.18, 128.08, 0.01)
    assert sq.contains(JINJU)
    assert not sq.contains(GeoPoint(35.2, 128.08))
    sw, _, ne, _ = sq.points
    assert sq.contains(GeoPoint(sw.lat, 128.08))  # on an edge
    assert sq.contains(sw)  # on a vertex
    assert sq.bbox() == BBox(sw.lat, sw.lon, ne.lat, ne.lon)
    # An L shape: the notch is outside.
    ell = Polygon(tuple(GeoPoint(lat, lon) for lat, lon in [(0, 0), (0, 2), (1, 2), (1, 1), (2, 1), (2, 0)]))
    assert ell.contains(GeoPoint(0.5, 1.5))
    assert ell.contains(GeoPoint(1.5, 0.5))
    assert not ell.contains(GeoPoint(1.5, 1.5))
    # A closed ring (first point repeated) behaves the same, in either orientation.
    closed = Polygon((*reversed(sq.points), sq.points[-1]))
    assert closed.contains(JINJU) and not closed.contains(GeoPoint(35.2, 128.08))


def test_polygon_rejects_degenerate() -> None:
    with pytest.raises(ValueError, match="3 distinct"):
        Polygon((JINJU, GeoPoint(35.19, 128.08)))
    with pytest.raises(ValueError, match="3 distinct"):
        Polygon((JINJU, JINJU, GeoPoint(35.19, 128.08)))
    with pytest.raises(ValueError, match="zero area"):
        Polygon((GeoPoint(0, 0), GeoPoint(1, 1), GeoPoint(2, 2)))


def test_polygon_contains_matches_triangle_test_seeded() -> None:
    rng = random.Random(3)
    for _ in range(50):
        pts = [
            GeoPoint(35.18 + rng.uniform(-0.01, 0.01), 128.08 + rng.uniform(-0.01, 0.01)) for _ in range(3)
        ]
        tri = Polygon(tuple(pts))

        def side(p: GeoPoint, a: GeoPoint, b: GeoPoint) -> float:
            return (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon)

        for _ in range(40):
            q = GeoPoint(35.18 + rng.uniform(-0.012, 0.012), 128.08 + rng.uniform(-0.012, 0.012))
            s = [side(q, pts[i], pts[(i + 1) % 3]) for i in range(3)]
            inside = all(v > 0 for v in s) or all(v < 0 for v in s)
            assert tri.contains(q) == inside


def test_area_centroid() -> None:
    assert area_centroid(Circle(JINJU, 10.0)) == JINJU
    c = area_centroid(square(35.18, 128.08, 0.01))
    assert c.lat == pytest.approx(35.18) and c.lon == pytest.approx(128.08)
    tri = Polygon((GeoPoint(35.0, 128.0), GeoPoint(35.0, 128.3), GeoPoint(35.3, 128.0)))
    c = area_centroid(tri)
    assert c.lat == pytest.approx(35.1) and c.lon == pytest.approx(128.1)


def test_in_field_of_view() -> None:
    cam = JINJU
    east_100 = offset(cam, 90.0, 100.0)
    north_100 = offset(cam, 0.0, 100.0)
    assert in_field_of_view(cam, 90.0, 60.0, east_100)
    assert not in_field_of_view(cam, 90.0, 60.0, north_100)
    assert not in_field_of_view(cam, 90.0, 60.0, offset(cam, 90.0, 151.0))
    assert in_field_of_view(cam, 90.0, 60.0, offset(cam, 90.0, 300.0), max_range_m=400.0)
    assert in_field_of_view(cam, 90.0, 60.0, offset(cam, 119.0, 50.0))  # inside the half angle
    assert not in_field_of_view(cam, 90.0, 60.0, offset(cam, 121.0, 50.0))
    assert in_field_of_view(cam, 350.0, 40.0, offset(cam, 10.0, 50.0))  # across north
    assert in_field_of_view(cam, 0.0, 360.0, offset(cam, 200.0, 50.0))
    assert in_field_of_view(cam, 0.0, 10.0, cam)  # standing on the camera


if given is not None:

    @given(
        st.floats(-89, 89),
        st.floats(-180, 180),
        st.floats(0, 359.99),
        st.floats(0.5, 50_000),
    )
    def test_offset_distance_bearing_property(lat: float, lon: float, brg: float, dist: float) -> None:
        start = GeoPoint(lat, lon)
        end = offset(start, brg, dist)
        assert distance_m(start, end) == pytest.approx(dist, rel=1e-6, abs=1e-6)
        assert distance_m(start, end) == distance_m(end, start)
        assert 0.0 <= bearing_deg(start, end) < 360.0

    @given(st.floats(-89, 89), st.floats(-179, 179), st.floats(1, 5_000), st.floats(0, 359.99))
    def test_circle_bbox_contains_boundary(lat: float, lon: float, radius: float, brg: float) -> None:
        circle = Circle(GeoPoint(lat, lon), radius)
        assert circle.bbox().contains(offset(circle.center, brg, radius * 0.999999))

"""The camera index must give exactly what a brute-force scan gives."""

from __future__ import annotations

import math
import random

import pytest

from app.domain.camera import Camera
from app.domain.camera_index import CameraIndex
from app.domain.enums import Purpose
from app.domain.geo import Area, Circle, GeoPoint, Polygon, area_centroid, distance_m, offset

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError:  # hypothesis is optional: the seeded tests below cover the same ground
    given = None

JINJU = GeoPoint(35.18, 128.08)
PURPOSES = list(Purpose)


def brute_nearest(
    cameras: list[Camera],
    point: GeoPoint,
    k: int,
    radius_m: float,
    purposes: frozenset[Purpose] | None = None,
) -> list[tuple[Camera, float]]:
    found = [
        (c, distance_m(point, GeoPoint(c.lat, c.lon)))
        for c in cameras
        if purposes is None or c.purpose in purposes
    ]
    found = [(c, d) for c, d in found if d <= radius_m]
    found.sort(key=lambda t: (t[1], t[0].id))
    return found[: max(0, k)]


def brute_within(
    cameras: list[Camera], area: Area, purposes: frozenset[Purpose] | None = None
) -> list[tuple[Camera, float]]:
    centroid = area_centroid(area)
    found = [
        (c, distance_m(centroid, GeoPoint(c.lat, c.lon)))
        for c in cameras
        if (purposes is None or c.purpose in purposes) and area.contains(GeoPoint(c.lat, c.lon))
    ]
    found.sort(key=lambda t: (t[1], t[0].id))
    return found


def city_cameras(rng: random.Random, n: int, spread_deg: float = 0.15) -> list[Camera]:
    return [
        Camera(
            f"C{i:06d}",
            f"cam {i}",
            JINJU.lat + rng.uniform(-spread_deg, spread_deg),
            JINJU.lon + rng.uniform(-spread_deg, spread_deg),
            rng.choice(PURPOSES),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_equals_brute_force_city(seed: int) -> None:
    rng = random.Random(seed)
    cameras = city_cameras(rng, 3000)
    index = CameraIndex(cameras)
    assert len(index) == 3000
    for _ in range(60):
        q = GeoPoint(JINJU.lat + rng.uniform(-0.2, 0.2), JINJU.lon + rng.uniform(-0.2, 0.2))
        k = rng.choice([1, 4, 8, 30, 200])
        radius = rng.choice([50.0, 300.0, 1000.0, 5000.0, math.inf])
        purposes = rng.choice(
            [None, frozenset({Purpose.CRIME}), frozenset({Purpose.CHILD_PROTECTION, Purpose.OTHER})]
        )
        assert index.nearest(q, k, radius, purposes) == brute_nearest(cameras, q, k, radius, purposes)


def test_nearest_ties_are_broken_by_id() -> None:
    rng = random.Random(11)
    spots = [offset(JINJU, rng.uniform(0, 360), rng.uniform(0, 800)) for _ in range(20)]
    cameras = [
        Camera(f"T{rng.randrange(10**6):06d}-{i}", "t", spot.lat, spot.lon, Purpose.CRIME)
        for i, spot in enumerate(spots * 5)
    ]
    rng.shuffle(cameras)
    index = CameraIndex(cameras, cell_m=100.0)
    for spot in spots:
        for k in (1, 3, 7, 40):
            assert index.nearest(spot, k, 2000.0) == brute_nearest(cameras, spot, k, 2000.0)


def test_nearest_global_sparse_poles_and_antimeridian() -> None:
    rng = random.Random(5)
    cameras = [
        Camera(f"G{i:04d}", "g", rng.uniform(-90, 90), rng.uniform(-180, 180), rng.choice(PURPOSES))
        for i in range(400)
    ]
    cameras += [
        Camera("E1", "east", 10.0, 179.9999, Purpose.OTHER),
        Camera("W1", "west", 10.0, -179.9999, Purpose.OTHER),
        Camera("N1", "pole", 90.0, 0.0, Purpose.OTHER),
        Camera("N2", "near pole", 89.9999, 120.0, Purpose.OTHER),
    ]
    index = CameraIndex(cameras, cell_m=200.0)
    queries = [GeoPoint(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(40)]
    queries += [GeoPoint(10.0, 180.0), GeoPoint(10.0, -180.0), GeoPoint(90.0, -45.0), GeoPoint(-90.0, 0.0)]
    for q in queries:
        for k, radius in ((1, math.inf), (5, math.inf), (3, 50.0), (2, 2_000_000.0)):
            assert index.nearest(q, k, radius) == brute_nearest(cameras, q, k, radius)
    assert [c.id for c, _ in index.nearest(GeoPoint(10.0, 180.0), 2, 100.0)] == ["E1", "W1"]


def test_within_circle_and_polygon_equal_brute_force() -> None:
    rng = random.Random(9)
    cameras = city_cameras(rng, 2000, spread_deg=0.05)
    index = CameraIndex(cameras)
    for _ in range(30):
        center = GeoPoint(JINJU.lat + rng.uniform(-0.05, 0.05), JINJU.lon + rng.uniform(-0.05, 0.05))
        circle = Circle(center, rng.uniform(10, 1500))
        verts = tuple(
            offset(center, b, rng.uniform(200, 2500)) for b in sorted(rng.uniform(0, 360) for _ in range(7))
        )
        polygon = Polygon(verts)
        purposes = rng.choice([None, frozenset({Purpose.TRAFFIC})])
        assert index.within(circle, purposes) == brute_within(cameras, circle, purposes)
        assert index.within(polygon, purposes) == brute_within(cameras, polygon, purposes)
    # A polygon far bigger than the occupied cells takes the occupied-cell path.
    big = Polygon((GeoPoint(30, 120), GeoPoint(30, 135), GeoPoint(40, 135), GeoPoint(40, 120)))
    assert index.within(big) == brute_within(cameras, big)


def test_get_upsert_remove() -> None:
    a = Camera("A", "a", 35.18, 128.08, Purpose.CRIME)
    b = Camera("B", "b", 35.181, 128.08, Purpose.TRAFFIC)
    index = CameraIndex([a, b])
    assert len(index) == 2 and index.get("A") == a and "B" in index and index.get("Z") is None
    moved = Camera("A", "a moved", 35.30, 128.30, Purpose.CRIME)
    index.upsert(moved)
    assert len(index) == 2 and index.get("A") == moved
    assert [c.id for c, _ in index.nearest(JINJU, 5, 1000.0)] == ["B"]
    assert [c.id for c, _ in index.nearest(GeoPoint(35.30, 128.30), 5, 10.0)] == ["A"]
    assert index.remove("B") and not index.remove("B")
    assert index.nearest(JINJU, 5, 1000.0) == []
    assert sorted(c.id for c in index) == ["A"]
    with pytest.raises(ValueError):
        index.upsert(Camera("X", "bad", 95.0, 0.0, Purpose.OTHER))
    assert "X" not in index


def test_empty_and_degenerate_queries() -> None:
    assert CameraIndex().nearest(JINJU, 5, 1000.0) == []
    index = CameraIndex([Camera("A", "a", 35.18, 128.08, Purpose.CRIME)])
    assert index.nearest(JINJU, 0, 1000.0) == []
    assert index.nearest(JINJU, 3, -1.0) == []
    assert index.nearest(JINJU, 3, 0.0) == [(index.get("A"), 0.0)]
    with pytest.raises(ValueError):
        CameraIndex(cell_m=0.0)


def test_random_upserts_and_removes_stay_exact() -> None:
    rng = random.Random(21)
    cameras = {c.id: c for c in city_cameras(rng, 1500, spread_deg=0.03)}
    index = CameraIndex(cameras.values())
    for step in range(600):
        cam_id = f"C{rng.randrange(2000):06d}"
        if rng.random() < 0.3:
            index.remove(cam_id)
            cameras.pop(cam_id, None)
        else:
            cam = Camera(
                cam_id,
                "x",
                JINJU.lat + rng.uniform(-0.03, 0.03),
                JINJU.lon + rng.uniform(-0.03, 0.03),
                rng.choice(PURPOSES),
            )
            index.upsert(cam)
            cameras[cam_id] = cam
        if step % 50 == 0:
            q = GeoPoint(JINJU.lat + rng.uniform(-0.03, 0.03), JINJU.lon + rng.uniform(-0.03, 0.03))
            assert index.nearest(q, 10, 800.0) == brute_nearest(list(cameras.values()), q, 10, 800.0)
    assert len(index) == len(cameras)


if given is not None:
    point_near_jinju = st.builds(GeoPoint, st.floats(35.17, 35.19), st.floats(128.07, 128.09))

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(st.floats(35.17, 35.19), st.floats(128.07, 128.09), st.sampled_from(PURPOSES)),
            max_size=120,
        ),
        point_near_jinju,
        st.integers(0, 20),
        st.floats(0, 3000),
        st.floats(20, 400),
    )
    def test_nearest_property(
        spots: list[tuple[float, float, Purpose]], q: GeoPoint, k: int, radius: float, cell_m: float
    ) -> None:
        cameras = [Camera(f"H{i:04d}", "h", lat, lon, p) for i, (lat, lon, p) in enumerate(spots)]
        index = CameraIndex(cameras, cell_m=cell_m)
        assert index.nearest(q, k, radius) == brute_nearest(cameras, q, k, radius)
        assert index.nearest(q, k, radius, frozenset({Purpose.CRIME})) == brute_nearest(
            cameras, q, k, radius, frozenset({Purpose.CRIME})
        )

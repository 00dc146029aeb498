"""Camera selection for incidents: ranking by field of view, escape rings, areas, vulnerable people."""

from __future__ import annotations

import random

from app.domain.camera import Camera
from app.domain.camera_index import CameraIndex
from app.domain.enums import Purpose
from app.domain.geo import Circle, GeoPoint, Polygon, angle_diff_deg, bearing_deg, distance_m, offset
from app.domain.selection import (
    Chosen,
    camera_covers,
    select_escape_ring,
    select_for_vulnerable,
    select_in_area,
    select_nearest,
)

P = GeoPoint(35.18, 128.08)


def cam_at(
    cam_id: str,
    bearing: float,
    dist: float,
    purpose: Purpose = Purpose.CRIME,
    direction: float | None = None,
    fov: float | None = None,
) -> Camera:
    spot = offset(P, bearing, dist)
    return Camera(cam_id, cam_id, spot.lat, spot.lon, purpose, direction, fov)


def ids(chosen: list[Chosen]) -> list[str]:
    return [c.camera.id for c in chosen]


def test_covering_cameras_rank_first() -> None:
    cameras = [
        cam_at("near-unknown", 0.0, 20.0),  # direction unknown
        cam_at("near-away", 180.0, 30.0, direction=180.0, fov=60.0),  # looks away from P
        cam_at("far-covering", 270.0, 120.0, direction=90.0, fov=40.0),  # west of P, looking east at it
        cam_at("fisheye", 45.0, 80.0, fov=360.0),  # sees all around, direction unknown
        cam_at("too-far-covering", 90.0, 200.0, direction=270.0, fov=60.0),  # beyond the 150 m range
    ]
    index = CameraIndex(cameras)
    chosen = select_nearest(index, P, k=5, radius_m=500.0)
    assert ids(chosen) == ["fisheye", "far-covering", "near-unknown", "near-away", "too-far-covering"]
    assert [c.covers_point for c in chosen] == [True, True, False, False, False]
    for c in chosen:
        assert c.distance_m == distance_m(P, GeoPoint(c.camera.lat, c.camera.lon))
    assert ids(select_nearest(index, P, k=2)) == ["fisheye", "far-covering"]
    assert ids(select_nearest(index, P, k=5, radius_m=100.0)) == ["fisheye", "near-unknown", "near-away"]
    assert ids(select_nearest(index, P, k=5, fov_range_m=250.0))[:3] == [
        "fisheye",
        "far-covering",
        "too-far-covering",
    ]
    assert select_nearest(index, P, k=0) == []


def test_camera_covers_needs_known_view() -> None:
    assert not camera_covers(cam_at("a", 0.0, 50.0), P)
    assert not camera_covers(cam_at("b", 0.0, 50.0, direction=180.0), P)  # fov unknown
    assert not camera_covers(cam_at("c", 0.0, 50.0, fov=90.0), P)  # direction unknown, fov < 360
    assert camera_covers(cam_at("d", 0.0, 50.0, direction=180.0, fov=90.0), P)


def test_purpose_filter_and_ties_by_id() -> None:
    spot = offset(P, 10.0, 40.0)
    cameras = [
        Camera(cid, cid, spot.lat, spot.lon, Purpose.TRAFFIC if cid.startswith("t") else Purpose.CRIME)
        for cid in ["c3", "c1", "t2", "c2", "t1"]
    ]
    index = CameraIndex(cameras)
    assert ids(select_nearest(index, P, k=10)) == ["c1", "c2", "c3", "t1", "t2"]
    assert ids(select_nearest(index, P, k=10, purposes=frozenset({Purpose.TRAFFIC}))) == ["t1", "t2"]


def test_selection_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(4)
    cameras = [
        cam_at(
            f"R{i:03d}",
            rng.uniform(0, 360),
            rng.choice([50.0, 100.0, 100.0, 300.0]),
            rng.choice(list(Purpose)),
            rng.choice([None, 0.0, 90.0, 180.0, 270.0]),
            rng.choice([None, 60.0, 360.0]),
        )
        for i in range(200)
    ]
    results = []
    for _ in range(3):
        rng.shuffle(cameras)
        index = CameraIndex(cameras)
        results.append(
            (
                ids(select_nearest(index, P, k=10, radius_m=400.0)),
                ids(select_escape_ring(index, P, 80.0, 350.0, 6)),
                ids(select_for_vulnerable(index, P, k=10)),
                ids(select_in_area(index, Circle(P, 250.0), limit=15)),
            )
        )
    assert results[0] == results[1] == results[2]


def test_escape_ring_spreads_over_directions() -> None:
    cameras = [
        cam_at("inner", 0.0, 50.0),
        cam_at("outer", 90.0, 900.0),
        cam_at("n1", 0.0, 300.0),
        cam_at("n2", 5.0, 250.0),
        cam_at("n3", 10.0, 200.0),
        cam_at("e1", 95.0, 400.0),
        cam_at("s1", 180.0, 450.0),
        cam_at("w1", 265.0, 350.0),
    ]
    index = CameraIndex(cameras)
    ring = select_escape_ring(index, P, 100.0, 500.0, 4)
    # One per direction, the nearest of the northern cluster, ordered clockwise from north.
    assert ids(ring) == ["n3", "e1", "s1", "w1"]
    for c in ring:
        assert 100.0 <= c.distance_m <= 500.0
    bearings = [bearing_deg(P, GeoPoint(c.camera.lat, c.camera.lon)) for c in ring]
    assert bearings == sorted(bearings)
    # Fewer candidates than k: all of them.
    assert ids(select_escape_ring(index, P, 100.0, 500.0, 10)) == ["n1", "n2", "n3", "e1", "s1", "w1"]
    assert select_escape_ring(index, P, 600.0, 500.0, 4) == []
    assert select_escape_ring(index, P, 100.0, 500.0, 0) == []


def test_escape_ring_spreads_within_a_fan() -> None:
    # Everything lies in a fan from 280 to 80 degrees, all at 300 m.
    cameras = [cam_at(f"c{b:03d}", float(b), 300.0) for b in range(-80, 81, 10)]
    index = CameraIndex(cameras)
    ring = select_escape_ring(index, P, 100.0, 500.0, 4)
    assert len(ring) == 4
    got = [round(bearing_deg(P, GeoPoint(c.camera.lat, c.camera.lon))) % 360 for c in ring]
    # The nearest camera (c-60, at 300 degrees), then the far end of the fan, then gaps filled evenly.
    assert got == [10, 80, 300, 330]
    gaps = [angle_diff_deg(a, b) for i, a in enumerate(got) for b in got[i + 1 :]]
    assert min(gaps) >= 30


def test_select_in_area_polygon_and_limit() -> None:
    cameras = [
        cam_at("in-near", 0.0, 30.0),
        cam_at("in-far", 90.0, 300.0),
        cam_at("out", 180.0, 800.0),
        cam_at("in-cover", 270.0, 100.0, direction=90.0, fov=30.0),
    ]
    index = CameraIndex(cameras)
    square = Polygon(tuple(offset(P, b, 700.0) for b in (45.0, 135.0, 225.0, 315.0)))
    assert ids(select_in_area(index, square)) == ["in-cover", "in-near", "in-far"]
    assert ids(select_in_area(index, square, limit=2)) == ["in-cover", "in-near"]
    assert ids(select_in_area(index, square, purposes=frozenset({Purpose.TRAFFIC}))) == []
    assert ids(select_in_area(index, Circle(P, 1000.0))) == ["in-cover", "in-near", "in-far", "out"]


def test_vulnerable_prefers_child_protection() -> None:
    cameras = [
        cam_at("crime-near", 0.0, 20.0),
        cam_at("child-far", 90.0, 400.0, Purpose.CHILD_PROTECTION),
        cam_at("child-mid", 180.0, 200.0, Purpose.CHILD_PROTECTION),
        cam_at("crime-cover", 270.0, 60.0, direction=90.0, fov=90.0),
        cam_at("child-out", 0.0, 900.0, Purpose.CHILD_PROTECTION),
    ]
    index = CameraIndex(cameras)
    assert ids(select_for_vulnerable(index, P, k=4, radius_m=500.0)) == [
        "child-mid",
        "child-far",
        "crime-cover",
        "crime-near",
    ]
    assert ids(select_for_vulnerable(index, P, k=1, radius_m=100.0)) == ["crime-cover"]


def test_approximate_cameras_are_never_nearest_and_come_last_in_an_area() -> None:
    import dataclasses

    exact = [cam_at("exact-far", 0.0, 400.0), cam_at("exact-ring", 90.0, 600.0)]
    stacked = [
        dataclasses.replace(cam_at(f"approx-{n}", 180.0, 10.0), approximate=True) for n in range(3)
    ] + [dataclasses.replace(cam_at("approx-ring", 270.0, 500.0), approximate=True)]
    index = CameraIndex(exact + stacked)
    # The stack is 10 m away, the exact camera 400 m: only the exact one is "nearest".
    assert ids(select_nearest(index, P, k=4, radius_m=500.0)) == ["exact-far"]
    assert ids(select_for_vulnerable(index, P, k=4, radius_m=500.0)) == ["exact-far"]
    assert ids(select_escape_ring(index, P, 300.0, 1200.0, 6)) == ["exact-far", "exact-ring"]
    # In an area every camera counts, the approximate ones after every exact one.
    ranked = ids(select_in_area(index, Circle(P, 1000.0)))
    assert ranked == ["exact-far", "exact-ring", "approx-0", "approx-1", "approx-2", "approx-ring"]
    # Corrected (the flag cleared), the same camera is nearest again.
    fixed = CameraIndex([*exact, dataclasses.replace(stacked[0], approximate=False)])
    assert ids(select_nearest(fixed, P, k=1, radius_m=500.0)) == ["approx-0"]


def _nearest_by_ranking_all(
    index: CameraIndex, point: GeoPoint, k: int, radius_m: float, purposes: frozenset[Purpose] | None
) -> list[tuple[str, float, bool]]:
    """``select_nearest`` as it was before issue 17: rank every exact camera in the radius, keep k."""
    found = [(c, d) for c, d in index.nearest(point, len(index), radius_m, purposes) if not c.approximate]
    chosen = [(c, d, camera_covers(c, point)) for c, d in found]
    chosen.sort(key=lambda t: (t[0].approximate, not t[2], t[1], t[0].id))
    return [(c.id, d, cov) for c, d, cov in chosen[:k]]


def test_select_nearest_equals_ranking_every_camera_in_the_radius() -> None:
    """The k-nearest shortcut gives exactly the old answer: covering cameras (known views, some pointed at
    the point, some 360°) first at any distance, approximate cameras never, ties by id, purposes, radii
    below and above the covering range, and more cameras wanted than there are."""
    rng = random.Random(17)
    centre = GeoPoint(35.18, 128.08)
    for trial in range(300):
        cams = []
        for i in range(rng.choice([0, 3, 40, 400])):
            p = offset(centre, rng.uniform(0, 360), rng.uniform(0, 900) if rng.random() < 0.9 else 0.0)
            grid = rng.random() < 0.3  # snapped positions make equal distances
            lat = round(p.lat, 3) if grid else p.lat
            lon = round(p.lon, 3) if grid else p.lon
            fov = rng.choice([None, None, 60.0, 90.0, 360.0])
            direction = None if fov is None or rng.random() < 0.2 else rng.uniform(0, 360)
            cams.append(
                Camera(
                    f"C{i:04d}",
                    f"c{i}",
                    lat,
                    lon,
                    rng.choice(list(Purpose)),
                    direction_deg=direction,
                    fov_deg=fov,
                    approximate=rng.random() < 0.15,
                )
            )
        index = CameraIndex(cams)
        point = offset(centre, rng.uniform(0, 360), rng.uniform(0, 300))
        k = rng.choice([1, 4, 8, 50, 500])
        radius = rng.choice([50.0, 149.5, 150.0, 151.0, 500.0, 2000.0])
        purposes = rng.choice([None, frozenset({Purpose.CRIME}), frozenset({Purpose.CRIME, Purpose.TRAFFIC})])
        got = [
            (c.camera.id, c.distance_m, c.covers_point)
            for c in select_nearest(index, point, k, radius, purposes)
        ]
        assert got == _nearest_by_ranking_all(index, point, k, radius, purposes), trial

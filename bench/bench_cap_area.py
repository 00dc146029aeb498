"""CAP alert area selection: a 500-point polygon over 50,000 cameras, our selection against a brute-force
point-in-polygon test of every camera, measured in the same run (issue #18).

50,000 seeded cameras within about 15 km of Jinju (35.18 N, 128.08 E). The alert polygon is an irregular
500-vertex ring around a random centre (radius 1.5–4 km varying by vertex, so the ring is not convex). Ours:
:func:`app.domain.selection.select_in_area` on the grid index (what ``handle_cap`` runs per shape: the box
prefilter by grid cell, the exact test, the ranking). Brute force: the same exact :meth:`Polygon.contains`
on every camera, then the same ranking by distance to the centroid. Both must return the same cameras.

    .venv/bin/python bench/bench_cap_area.py [--cameras 50000] [--vertices 500] [--polygons 20] [--brute-polygons 3]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.camera import Camera
from app.domain.camera_index import CameraIndex
from app.domain.geo import GeoPoint, Polygon, area_centroid, distance_m, offset
from app.domain.selection import select_in_area
from bench.bench_nearest import JINJU, make_cameras


def alert_polygon(rng: random.Random, vertices: int) -> Polygon:
    centre = offset(JINJU, rng.uniform(0, 360), 8000.0 * math.sqrt(rng.random()))
    pts = []
    for i in range(vertices):
        bearing = 360.0 * i / vertices
        radius = 2750.0 + 1250.0 * math.sin(i * 0.37) * math.cos(i * 0.11 + rng.random() * 0.2)
        pts.append(offset(centre, bearing, radius))
    return Polygon(tuple(pts))


def brute_force(cameras: list[Camera], polygon: Polygon) -> list[str]:
    centroid = area_centroid(polygon)
    hits = [
        (distance_m(centroid, GeoPoint(c.lat, c.lon)), c.id)
        for c in cameras
        if polygon.contains(GeoPoint(c.lat, c.lon))
    ]
    hits.sort()
    return [cid for _, cid in hits]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50_000)
    parser.add_argument("--vertices", type=int, default=500)
    parser.add_argument("--polygons", type=int, default=20)
    parser.add_argument("--brute-polygons", type=int, default=3, help="brute force on the first N only")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()

    cameras = make_cameras(args.cameras, args.seed)
    index = CameraIndex(cameras)
    rng = random.Random(args.seed)
    polygons = [alert_polygon(rng, args.vertices) for _ in range(args.polygons)]

    t0 = time.perf_counter()
    ours = [[c.camera.id for c in select_in_area(index, p)] for p in polygons]
    t_ours = (time.perf_counter() - t0) / len(polygons)
    t0 = time.perf_counter()
    brute = [brute_force(cameras, p) for p in polygons[: args.brute_polygons]]
    t_brute = (time.perf_counter() - t0) / len(brute)
    for a, b in zip(ours, brute, strict=False):
        if a != b:
            print("MISMATCH: the selection differs from brute force", file=sys.stderr)
            return 1
    found = sum(len(a) for a in ours)
    print(
        f"{args.cameras} cameras, {args.polygons} polygons of {args.vertices} vertices, "
        f"{found / len(polygons):.0f} cameras inside on average (the same cameras in the same order both ways)"
    )
    print(f"ours (grid index + exact test + ranking): {t_ours * 1000:8.2f} ms per polygon")
    print(f"brute force (exact test on every camera): {t_brute * 1000:8.2f} ms per polygon")
    print(f"ratio brute / ours: {t_brute / t_ours:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A prepared polygon (edges filed by latitude band) answers exactly as the plain ray-casting test,
on random points, on its vertices and on points of its edges (issue #18: 500-point CAP polygons)."""

from __future__ import annotations

import math
import random

from app.domain.geo import GeoPoint, Polygon, PreparedPolygon, offset

CENTRE = GeoPoint(35.18, 128.08)


def _ring(rng: random.Random, n: int) -> Polygon:
    return Polygon(
        tuple(
            offset(CENTRE, 360.0 * i / n, 2000.0 + 1500.0 * math.sin(i * 0.9) * rng.random())
            for i in range(n)
        )
    )


def test_prepared_polygon_answers_as_the_plain_test() -> None:
    rng = random.Random(18)
    for n in (3, 5, 17, 120, 500):
        poly = _ring(rng, n) if n > 3 else Polygon((CENTRE, offset(CENTRE, 0, 900), offset(CENTRE, 90, 900)))
        prepared = PreparedPolygon(poly)
        points = [offset(CENTRE, rng.uniform(0, 360), 4500 * math.sqrt(rng.random())) for _ in range(3000)]
        points += list(poly.points)  # vertices: on the boundary
        pts = poly.points
        points += [  # midpoints of edges (on the boundary up to rounding) and exact horizontal extremes
            GeoPoint((pts[i].lat + pts[i - 1].lat) / 2, (pts[i].lon + pts[i - 1].lon) / 2)
            for i in range(len(pts))
        ]
        inside = 0
        for p in points:
            expected = poly.contains(p)
            assert prepared.contains(p) == expected, (n, p)
            inside += expected
        assert 0 < inside < len(points)  # the sample has points on both sides

"""The demo city: a seeded, simulated Jinju (진주시, Gyeongsangnam-do) with cameras, facilities and sensors.

What is real and what is not
----------------------------
Jinju's centre (about 35.180 N, 128.108 E), the Nam river (남강) flowing west to east through it from
the Jinyang lake dam, and the names of the districts below are real. Everything else is an
approximation drawn by hand for a demo, not surveyed data:

* **Districts** are rough polygons of nine areas (중앙동, 상봉동, 상대동, 하대동, 평거동, 판문동 on the
  north bank; 칠암동, 가호동, 상평동 (industrial estate), 충무공동 (the Gyeongnam Innovation City,
  혁신도시) on the south bank). They are placed where those areas are, give or take a few hundred
  metres, do not tile the city and leave the river between them. Administrative boundaries differ.
* **Main roads** carry real Jinju road names (진주대로, 남강로, 진양호로, 동진로, 충의로, 가좌로) on
  hand-drawn polylines that only follow the real roads loosely; **local streets** are a seeded grid per
  district (spacing and angle per district), clipped to the district polygon, named ``중앙로 3번길``…
* **Cameras** (default 400) stand along those streets: crime prevention (방범) on local streets in
  residential areas, traffic (교통) on the main roads, disaster (재난) on both river banks looking at
  the water, child protection (어린이보호) on the streets leading to schools, and a few facility
  cameras (시설). Most have ``direction_deg``/``fov_deg`` looking along their street (or at the river,
  or towards the school); about one in twelve has none (unknown, as in real inventories).
* **Facilities** (gas stations, LPG filling stations, chemical plants with access notes in Korean,
  hospitals, shelters, hydrants) and **sensors** (emergency bells in parks and alleys, water-level
  gauges on the river, gas detectors at the hazardous sites) are invented, placed plausibly.

Streams: every camera record points at the camera simulator (:mod:`app.sim.cameras`), which serves
``live_count`` distinct cameras ``rtsp://HOST:PORT/cam{k}/main|sub`` with ``k`` from 1. Camera number
``i`` (0-based, in id order) uses ``k = i % live_count + 1``, so 400 cameras share 8 live streams.

Determinism: :func:`build_city` and :func:`generate_city` depend only on their arguments (one
``random.Random(seed)``; no clock, no network, no files read). Generating 400 cameras takes a few tens
of milliseconds.

Files written by :func:`generate_city` (the formats of :mod:`app.domain.camera_import` and
:mod:`app.domain.layers_import`, so ``python main.py cameras|facilities|sensors import FILE`` reads them):

* ``cameras.csv`` (GoldenTime CSV) and ``cameras.geojson`` (the same cameras as GeoJSON Points);
* ``facilities.csv`` (``id,name,lat,lon,kind,notes``) and ``sensors.csv`` (``id,name,lat,lon,kind,threshold``);
* ``districts.geojson`` (Polygons, properties ``id``, ``name`` (Korean), ``name_en``, ``kind``) for the map;
* ``streets.geojson`` (LineStrings of main roads, local streets and the river, properties ``name``, ``kind``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from app.domain.camera import Camera
from app.domain.enums import FacilityKind, Purpose, SensorKind
from app.domain.layers import Facility, Sensor

__all__ = [
    "CENTER",
    "City",
    "CityFiles",
    "District",
    "Place",
    "Street",
    "build_city",
    "generate_city",
    "offset_latlon",
    "stream_urls",
]

CENTER: Final = (35.180, 128.108)
"""Jinju's centre (lat, lon) used as the origin of the local metric plane."""

_M_PER_DEG_LAT: Final = 110_950.0
_M_PER_DEG_LON: Final = 111_320.0 * math.cos(math.radians(CENTER[0]))

LatLon = tuple[float, float]
XY = tuple[float, float]

PURPOSE_KO: Final[dict[Purpose, str]] = {
    Purpose.CRIME: "방범",
    Purpose.TRAFFIC: "교통",
    Purpose.DISASTER: "재난",
    Purpose.CHILD_PROTECTION: "어린이보호",
    Purpose.OTHER: "시설",
}

# ---------------------------------------------------------------- hand-drawn geography (lat, lon)

# The Nam river from below the Jinyang lake dam, past Jinju castle, east towards the Innovation City.
_RIVER: Final[tuple[LatLon, ...]] = (
    (35.1600, 128.0380),
    (35.1650, 128.0450),
    (35.1700, 128.0520),
    (35.1770, 128.0640),
    (35.1835, 128.0740),
    (35.1870, 128.0820),
    (35.1845, 128.0920),
    (35.1795, 128.1020),
    (35.1770, 128.1130),
    (35.1745, 128.1250),
    (35.1735, 128.1380),
    (35.1760, 128.1520),
)

DistrictKind = Literal["downtown", "residential", "industrial", "innovation"]


@dataclass(frozen=True, slots=True)
class _DistrictSpec:
    id: str
    name_ko: str
    name_en: str
    kind: DistrictKind
    ring: tuple[LatLon, ...]
    spacing_m: float  # local street grid spacing
    angle_deg: float  # local street grid orientation (compass bearing of one family)
    weight: float  # share of crime-prevention cameras


# fmt: off
_DISTRICTS: Final[tuple[_DistrictSpec, ...]] = (
    _DistrictSpec(
        "panmun", "판문동", "Panmun-dong", "residential",
        ((35.1700, 128.0400), (35.1790, 128.0390), (35.1815, 128.0550), (35.1770, 128.0590), (35.1725, 128.0530)),
        190.0, 35.0, 0.7,
    ),
    _DistrictSpec(
        "pyeonggeo", "평거동", "Pyeonggeo-dong", "residential",
        ((35.1790, 128.0620), (35.1825, 128.0565), (35.1880, 128.0600), (35.1905, 128.0715),
         (35.1865, 128.0745), (35.1815, 128.0680)),
        160.0, 33.0, 1.3,
    ),
    _DistrictSpec(
        "sangbong", "상봉동", "Sangbong-dong", "residential",
        ((35.1930, 128.0700), (35.2040, 128.0690), (35.2065, 128.0840), (35.1975, 128.0880), (35.1935, 128.0800)),
        170.0, 10.0, 1.1,
    ),
    _DistrictSpec(
        "jungang", "중앙동", "Jungang-dong", "downtown",
        ((35.1895, 128.0780), (35.1930, 128.0760), (35.1965, 128.0885), (35.1945, 128.0975),
         (35.1880, 128.0960), (35.1880, 128.0860)),
        130.0, 5.0, 1.5,
    ),
    _DistrictSpec(
        "sangdae", "상대동", "Sangdae-dong", "residential",
        ((35.1860, 128.0990), (35.1945, 128.0990), (35.1925, 128.1140), (35.1830, 128.1150), (35.1825, 128.1040)),
        150.0, 20.0, 1.4,
    ),
    _DistrictSpec(
        "hadae", "하대동", "Hadae-dong", "residential",
        ((35.1830, 128.1160), (35.1925, 128.1150), (35.1905, 128.1310), (35.1800, 128.1310), (35.1800, 128.1230)),
        160.0, 25.0, 1.2,
    ),
    _DistrictSpec(
        "chilam", "칠암동", "Chiram-dong", "residential",
        ((35.1745, 128.0840), (35.1800, 128.0830), (35.1805, 128.0890), (35.1765, 128.0985), (35.1735, 128.0990)),
        150.0, 40.0, 0.9,
    ),
    _DistrictSpec(
        "gaho", "가호동", "Gaho-dong", "residential",
        ((35.1500, 128.0880), (35.1700, 128.0890), (35.1720, 128.1040), (35.1600, 128.1100), (35.1480, 128.1010)),
        190.0, 15.0, 1.0,
    ),
    _DistrictSpec(
        "sangpyeong", "상평동", "Sangpyeong-dong", "industrial",
        ((35.1650, 128.1060), (35.1725, 128.1060), (35.1720, 128.1180), (35.1640, 128.1190)),
        230.0, 0.0, 0.2,
    ),
    _DistrictSpec(
        "chungmugong", "충무공동", "Chungmugong-dong (Innovation City)", "innovation",
        ((35.1590, 128.1210), (35.1695, 128.1200), (35.1700, 128.1400), (35.1620, 128.1450), (35.1560, 128.1330)),
        200.0, 12.0, 1.0,
    ),
)

# fmt: on

JINJU_CODE: Final = "4817000000"
"""경상남도 진주시, the 시군구 every demo district is under (its 행정구역코드)."""
# The real 행정구역코드 of each demo district's 행정동 (the shapes are drawn by hand; the codes are not).
# 칠암동 has been part of the 행정동 천전동 since 망경동, 강남동 and 칠암동 were joined: it carries 천전동's code.
ADMIN_CODES: Final[dict[str, str]] = {
    "panmun": "4817073000",
    "pyeonggeo": "4817071000",
    "sangbong": "4817059500",
    "jungang": "4817056500",
    "sangdae": "4817067300",
    "hadae": "4817067800",
    "chilam": "4817051500",
    "gaho": "4817074000",
    "sangpyeong": "4817068000",
    "chungmugong": "4817075000",
}

# Main roads: (name_ko, name_en, polyline). Loosely after the real roads of the same name.
# fmt: off
_MAIN_ROADS: Final[tuple[tuple[str, str, tuple[LatLon, ...]], ...]] = (
    (
        "진주대로", "Jinju-daero",
        ((35.1795, 128.0420), (35.1830, 128.0600), (35.1890, 128.0720), (35.1912, 128.0850),
         (35.1905, 128.1000), (35.1875, 128.1150), (35.1855, 128.1300)),
    ),
    (
        "남강로", "Namgang-ro",
        ((35.1790, 128.0610), (35.1852, 128.0715), (35.1885, 128.0800), (35.1870, 128.0920),
         (35.1830, 128.1000), (35.1815, 128.1120), (35.1800, 128.1260)),
    ),
    (
        "진양호로", "Jinyangho-ro",
        ((35.1715, 128.0440), (35.1790, 128.0520), (35.1860, 128.0630), (35.1960, 128.0730), (35.2050, 128.0780)),
    ),
    (
        "동진로", "Dongjin-ro",
        ((35.1930, 128.1090), (35.1860, 128.1170), (35.1780, 128.1215), (35.1700, 128.1250),
         (35.1630, 128.1300), (35.1570, 128.1360)),
    ),
    (
        "충의로", "Chungui-ro",
        ((35.1640, 128.1215), (35.1655, 128.1320), (35.1660, 128.1430)),
    ),
    (
        "가좌로", "Gajwa-ro",
        ((35.1925, 128.0870), (35.1860, 128.0880), (35.1790, 128.0905), (35.1700, 128.0950),
         (35.1600, 128.0980), (35.1500, 128.0990)),
    ),
)

# fmt: on

# ---------------------------------------------------------------- local metric plane


def to_xy(lat: float, lon: float) -> XY:
    """Metres east and north of :data:`CENTER` (equirectangular; exact enough over 15 km)."""
    return (lon - CENTER[1]) * _M_PER_DEG_LON, (lat - CENTER[0]) * _M_PER_DEG_LAT


def to_latlon(x: float, y: float) -> LatLon:
    return CENTER[0] + y / _M_PER_DEG_LAT, CENTER[1] + x / _M_PER_DEG_LON


def offset_latlon(lat: float, lon: float, metres: float, bearing_deg: float) -> LatLon:
    """The point ``metres`` from ``(lat, lon)`` towards ``bearing_deg`` (0 = north, clockwise)."""
    x, y = to_xy(lat, lon)
    ux, uy = _unit(bearing_deg)
    return to_latlon(x + ux * metres, y + uy * metres)


def _bearing(dx: float, dy: float) -> float:
    """Compass bearing (0 = north, clockwise) of the vector (dx east, dy north), in [0, 360)."""
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _unit(bearing_deg: float) -> XY:
    r = math.radians(bearing_deg)
    return math.sin(r), math.cos(r)


class _Line:
    """A polyline in the metric plane with arc-length lookups."""

    def __init__(self, points: Sequence[XY]) -> None:
        self.points = list(points)
        self.cum = [0.0]
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            self.cum.append(self.cum[-1] + math.hypot(x1 - x0, y1 - y0))

    @property
    def length(self) -> float:
        return self.cum[-1]

    def at(self, s: float) -> tuple[XY, float]:
        """The point at arc length ``s`` (clamped) and the heading there (compass bearing)."""
        s = min(max(s, 0.0), self.length)
        for i in range(1, len(self.cum)):
            if s <= self.cum[i] or i == len(self.cum) - 1:
                (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
                seg = self.cum[i] - self.cum[i - 1]
                f = 0.0 if seg == 0 else (s - self.cum[i - 1]) / seg
                return (x0 + f * (x1 - x0), y0 + f * (y1 - y0)), _bearing(x1 - x0, y1 - y0)
        raise AssertionError("unreachable")

    def distance(self, p: XY) -> float:
        best = math.inf
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            dx, dy = x1 - x0, y1 - y0
            seg2 = dx * dx + dy * dy
            t = 0.0 if seg2 == 0 else max(0.0, min(1.0, ((p[0] - x0) * dx + (p[1] - y0) * dy) / seg2))
            best = min(best, math.hypot(p[0] - (x0 + t * dx), p[1] - (y0 + t * dy)))
        return best


def _inside(p: XY, ring: Sequence[XY]) -> bool:
    x, y = p
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < xi + (y - yi) * (xj - xi) / (yj - yi):
            inside = not inside
        j = i
    return inside


def _crossing(a: XY, b: XY, c: XY, d: XY) -> XY | None:
    """Where segments ``ab`` and ``cd`` cross (None when they do not)."""
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    denom = rx * sy - ry * sx
    if abs(denom) < 1e-12:
        return None
    t = ((c[0] - a[0]) * sy - (c[1] - a[1]) * sx) / denom
    u = ((c[0] - a[0]) * ry - (c[1] - a[1]) * rx) / denom
    if 0.0 < t < 1.0 and 0.0 < u < 1.0:
        return a[0] + t * rx, a[1] + t * ry
    return None


def _unloop(points: list[XY]) -> list[XY]:
    """Cut the small loops an offset polyline makes on the inside of a bend."""
    pts = list(points)
    i = 0
    while i < len(pts) - 1:
        for j in range(len(pts) - 2, i + 1, -1):
            hit = _crossing(pts[i], pts[i + 1], pts[j], pts[j + 1])
            if hit is not None:
                pts = [*pts[: i + 1], hit, *pts[j + 1 :]]
                break
        i += 1
    return pts


def _clip_line(origin: XY, direction: XY, ring: Sequence[XY]) -> list[tuple[float, float]]:
    """Parameter intervals ``(t0, t1)`` where the line ``origin + t·direction`` is inside ``ring``."""
    ts: list[float] = []
    ox, oy = origin
    dx, dy = direction
    n = len(ring)
    for i in range(n):
        (ax, ay), (bx, by) = ring[i], ring[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        denom = dx * ey - dy * ex
        if abs(denom) < 1e-12:
            continue
        t = ((ax - ox) * ey - (ay - oy) * ex) / denom
        u = ((ax - ox) * dy - (ay - oy) * dx) / denom
        if 0.0 <= u < 1.0:
            ts.append(t)
    ts.sort()
    return [(ts[i], ts[i + 1]) for i in range(0, len(ts) - 1, 2)]


# ---------------------------------------------------------------- the city model


@dataclass(frozen=True, slots=True)
class District:
    id: str
    name_ko: str
    name_en: str
    kind: DistrictKind
    ring: tuple[LatLon, ...]  # open ring, (lat, lon)
    code: str = ""  # the real 행정구역코드 of the 행정동 (CAP <geocode>; see ADMIN_CODES)

    def contains(self, lat: float, lon: float) -> bool:
        return _inside(to_xy(lat, lon), [to_xy(*p) for p in self.ring])

    @property
    def centroid(self) -> LatLon:
        xy = [to_xy(*p) for p in self.ring]
        return to_latlon(sum(p[0] for p in xy) / len(xy), sum(p[1] for p in xy) / len(xy))


@dataclass(frozen=True, slots=True)
class Street:
    """A main road, a local street or the river, as a polyline of (lat, lon)."""

    id: str
    name: str
    kind: Literal["main", "local", "river"]
    points: tuple[LatLon, ...]
    district: str | None = None

    def line(self) -> _Line:
        return _Line([to_xy(*p) for p in self.points])

    @property
    def length_m(self) -> float:
        return self.line().length

    def walk(self, start_m: float, step_m: float, count: int) -> list[LatLon]:
        """``count`` points from ``start_m`` along the street, ``step_m`` apart (bouncing back at the ends)."""
        line = self.line()
        out: list[LatLon] = []
        s, step = start_m, step_m
        for _ in range(count):
            if s > line.length or s < 0:
                step = -step
                s = min(max(s, 0.0), line.length)
            (x, y), _heading = line.at(s)
            out.append(to_latlon(x, y))
            s += step
        return out


PlaceKind = Literal["school", "park"]


@dataclass(frozen=True, slots=True)
class Place:
    """A named point of the city (school, park) used for placement and by the scenario."""

    id: str
    name: str
    kind: PlaceKind
    lat: float
    lon: float
    district: str
    street: str


@dataclass(frozen=True, slots=True)
class City:
    seed: int
    districts: tuple[District, ...]
    river: Street
    streets: tuple[Street, ...]
    places: tuple[Place, ...]
    cameras: tuple[Camera, ...]
    facilities: tuple[Facility, ...]
    sensors: tuple[Sensor, ...]
    live_count: int
    rtsp_port: int
    rtsp_host: str = "127.0.0.1"

    def district(self, district_id: str) -> District:
        return next(d for d in self.districts if d.id == district_id)

    def district_at(self, lat: float, lon: float) -> District:
        """The district containing the point, else the one with the nearest centroid."""
        for d in self.districts:
            if d.contains(lat, lon):
                return d
        p = to_xy(lat, lon)

        def dist(d: District) -> float:
            c = to_xy(*d.centroid)
            return math.hypot(c[0] - p[0], c[1] - p[1])

        return min(self.districts, key=dist)

    def street(self, name: str) -> Street:
        return next(s for s in self.streets if s.name == name)

    def local_streets(self, district_id: str) -> list[Street]:
        return [s for s in self.streets if s.kind == "local" and s.district == district_id]

    def main_roads(self) -> list[Street]:
        return [s for s in self.streets if s.kind == "main"]

    def facilities_of(self, kind: FacilityKind) -> list[Facility]:
        return [f for f in self.facilities if f.kind is kind]

    def facility(self, facility_id: str) -> Facility:
        return next(f for f in self.facilities if f.id == facility_id)

    def sensors_of(self, kind: SensorKind) -> list[Sensor]:
        return [s for s in self.sensors if s.kind is kind]

    def nearest_sensor(self, kind: SensorKind, lat: float, lon: float) -> Sensor:
        p = to_xy(lat, lon)

        def dist(s: Sensor) -> float:
            q = to_xy(s.lat, s.lon)
            return math.hypot(q[0] - p[0], q[1] - p[1])

        return min(self.sensors_of(kind), key=dist)

    def places_of(self, kind: PlaceKind) -> list[Place]:
        return [p for p in self.places if p.kind == kind]

    def river_buffer(self, lon_from: float, lon_to: float, half_width_m: float) -> list[LatLon]:
        """A closed ring (first point repeated last) of ``half_width_m`` either side of the river
        between two longitudes: the shape of a flood warning along the river."""
        line = self.river.line()
        samples: list[tuple[XY, float]] = []
        steps = max(2, int(line.length / 100.0))
        x_from, _ = to_xy(CENTER[0], lon_from)
        x_to, _ = to_xy(CENTER[0], lon_to)
        for i in range(steps + 1):
            p, heading = line.at(line.length * i / steps)
            if x_from <= p[0] <= x_to:
                samples.append((p, heading))
        left: list[XY] = []
        right: list[XY] = []
        for (x, y), heading in samples:
            lx, ly = _unit(heading - 90.0)
            left.append((x + lx * half_width_m, y + ly * half_width_m))
            right.append((x - lx * half_width_m, y - ly * half_width_m))
        ring = [to_latlon(*p) for p in (*_unloop(left), *reversed(_unloop(right)))]
        return [*ring, ring[0]]


def stream_urls(index: int, live_count: int, rtsp_port: int, host: str = "127.0.0.1") -> tuple[str, str]:
    """Main and sub stream of camera ``index`` (0-based): camera-simulator camera ``index % live_count + 1``."""
    if live_count < 1:
        raise ValueError("live_count must be at least 1")
    k = index % live_count + 1
    base = f"rtsp://{host}:{rtsp_port}/cam{k}"
    return f"{base}/main", f"{base}/sub"


# ---------------------------------------------------------------- generation


@dataclass
class _Builder:
    rng: random.Random
    districts: list[District] = field(default_factory=list)
    rings_xy: dict[str, list[XY]] = field(default_factory=dict)
    streets: list[Street] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    taken: dict[tuple[int, int], list[XY]] = field(default_factory=dict)

    # -- spacing: no two cameras closer than MIN_GAP_M

    MIN_GAP_M = 18.0

    def free(self, p: XY) -> bool:
        cx, cy = int(p[0] // self.MIN_GAP_M), int(p[1] // self.MIN_GAP_M)
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for q in self.taken.get((i, j), ()):
                    if math.hypot(p[0] - q[0], p[1] - q[1]) < self.MIN_GAP_M:
                        return False
        return True

    def take(self, p: XY) -> None:
        key = (int(p[0] // self.MIN_GAP_M), int(p[1] // self.MIN_GAP_M))
        self.taken.setdefault(key, []).append(p)


def _build_districts(b: _Builder) -> None:
    for spec in _DISTRICTS:
        b.districts.append(
            District(spec.id, spec.name_ko, spec.name_en, spec.kind, spec.ring, ADMIN_CODES[spec.id])
        )
        b.rings_xy[spec.id] = [to_xy(*p) for p in spec.ring]


def _build_streets(b: _Builder, river: _Line) -> None:
    for i, (name_ko, _name_en, pts) in enumerate(_MAIN_ROADS):
        b.streets.append(Street(f"R{i + 1:02d}", name_ko, "main", pts))
    for spec in _DISTRICTS:
        ring = b.rings_xy[spec.id]
        spacing = spec.spacing_m * b.rng.uniform(0.9, 1.1)
        angle = spec.angle_deg + b.rng.uniform(-6.0, 6.0)
        cx = sum(p[0] for p in ring) / len(ring)
        cy = sum(p[1] for p in ring) / len(ring)
        reach = max(math.hypot(p[0] - cx, p[1] - cy) for p in ring) + spacing
        n = 0
        base = spec.name_ko[:-1] + "로"
        for family in (angle, angle + 90.0):
            d = _unit(family)
            normal = _unit(family + 90.0)
            offset = b.rng.uniform(0.0, spacing)
            k = -reach + offset
            while k <= reach:
                origin = (cx + normal[0] * k, cy + normal[1] * k)
                for t0, t1 in _clip_line(origin, d, ring):
                    t0, t1 = t0 + 15.0, t1 - 15.0  # stop short of the district edge
                    if t1 - t0 < 90.0:
                        continue
                    a = (origin[0] + d[0] * t0, origin[1] + d[1] * t0)
                    z = (origin[0] + d[0] * t1, origin[1] + d[1] * t1)
                    if min(river.distance(a), river.distance(z)) < 60.0:
                        continue
                    n += 1
                    b.streets.append(
                        Street(
                            f"{spec.id}-{n:02d}",
                            f"{base} {n}번길",
                            "local",
                            (to_latlon(*a), to_latlon(*z)),
                            spec.id,
                        )
                    )
                k += spacing


def _weighted_street(rng: random.Random, streets: Sequence[Street], weights: Sequence[float]) -> Street:
    return rng.choices(list(streets), weights=list(weights), k=1)[0]


def _build_places(b: _Builder) -> None:
    for spec in _DISTRICTS:
        local = [s for s in b.streets if s.district == spec.id]
        if not local:
            continue
        n_schools = {"downtown": 2, "residential": 2, "innovation": 3, "industrial": 0}[spec.kind]
        n_parks = 1 if spec.kind == "industrial" else 2
        wanted: tuple[tuple[PlaceKind, int], ...] = (("school", n_schools), ("park", n_parks))
        for kind, count in wanted:
            for i in range(count):
                street = b.rng.choice(local)
                line = street.line()
                (x, y), heading = line.at(b.rng.uniform(0.3, 0.7) * line.length)
                side = b.rng.choice((-1.0, 1.0))
                nx, ny = _unit(heading + 90.0 * side)
                lat, lon = to_latlon(x + nx * 35.0, y + ny * 35.0)
                if kind == "school":
                    name = f"진주{spec.name_ko[:-1]}{('초등학교', '중학교', '제2초등학교')[i % 3]}"
                else:
                    name = f"{spec.name_ko} {'근린공원' if i == 0 else '어린이공원'}"
                pid = f"{'SCH' if kind == 'school' else 'PRK'}-{spec.id}-{i + 1}"
                b.places.append(Place(pid, name, kind, round(lat, 6), round(lon, 6), spec.id, street.id))


@dataclass(frozen=True, slots=True)
class _Cam:
    xy: XY
    purpose: Purpose
    direction: float | None
    fov: float | None


def _purpose_quota(n: int) -> dict[Purpose, int]:
    shares = {
        Purpose.TRAFFIC: 0.15,
        Purpose.DISASTER: 0.10,
        Purpose.CHILD_PROTECTION: 0.15,
        Purpose.OTHER: 0.05,
    }
    quota = {
        p: (max(1, round(n * s)) if n >= 10 else (1 if n >= 5 and p is not Purpose.OTHER else 0))
        for p, s in shares.items()
    }
    quota[Purpose.CRIME] = n - sum(quota.values())
    if quota[Purpose.CRIME] < 0:  # tiny cities: crime prevention first, then the others in order
        quota = {Purpose.CRIME: n} | {p: 0 for p in shares}
    return quota


def _place_along(
    b: _Builder,
    line: _Line,
    purpose: Purpose,
    s: float,
    *,
    side_m: float,
    fov: tuple[float, float],
    no_dir: float,
) -> _Cam | None:
    (x, y), heading = line.at(s)
    side = b.rng.choice((-1.0, 1.0))
    nx, ny = _unit(heading + 90.0 * side)
    p = (x + nx * side_m, y + ny * side_m)
    if not b.free(p):
        return None
    b.take(p)
    if b.rng.random() < no_dir:
        return _Cam(p, purpose, None, None)
    look = (heading + (0.0 if b.rng.random() < 0.5 else 180.0) + b.rng.uniform(-12.0, 12.0)) % 360.0
    return _Cam(p, purpose, look, float(round(b.rng.uniform(*fov))))


def _cameras(b: _Builder, n: int, river: _Line) -> list[_Cam]:
    rng = b.rng
    quota = _purpose_quota(n)
    out: list[_Cam] = []

    def fill(purpose: Purpose, make: Iterator[_Cam | None]) -> None:
        want = quota[purpose]
        got = 0
        for _ in range(want * 40 + 40):
            if got >= want:
                break
            cam = next(make)
            if cam is not None:
                out.append(cam)
                got += 1

    main = [s.line() for s in b.streets if s.kind == "main"]
    local = [s for s in b.streets if s.kind == "local"]
    by_id = {s.id: s for s in b.streets}

    def traffic() -> Iterator[_Cam | None]:
        # intersections first (the vertices of the main roads), then anywhere along them
        for line in main:
            for s in line.cum[1:-1]:
                yield _place_along(
                    b, line, Purpose.TRAFFIC, s + rng.uniform(-15, 15), side_m=10.0, fov=(50, 70), no_dir=0.0
                )
        while True:
            line = rng.choices(main, weights=[m.length for m in main], k=1)[0]
            yield _place_along(
                b, line, Purpose.TRAFFIC, rng.uniform(0, line.length), side_m=10.0, fov=(50, 70), no_dir=0.02
            )

    def disaster() -> Iterator[_Cam | None]:
        while True:
            (x, y), heading = river.at(rng.uniform(0.03, 0.97) * river.length)
            side = rng.choice((-1.0, 1.0))
            nx, ny = _unit(heading + 90.0 * side)
            d = rng.uniform(45.0, 75.0)
            p = (x + nx * d, y + ny * d)
            if not b.free(p):
                yield None
                continue
            b.take(p)
            towards_water = (heading - 90.0 * side + rng.uniform(-35.0, 35.0)) % 360.0
            yield _Cam(p, Purpose.DISASTER, towards_water, float(round(rng.uniform(80, 100))))

    def child() -> Iterator[_Cam | None]:
        schools = [p for p in b.places if p.kind == "school"]
        while True:
            school = rng.choice(schools)
            line = by_id[school.street].line()
            sx, sy = to_xy(school.lat, school.lon)
            # the street point nearest the school gate, then a few tens of metres either way
            s_gate = min(
                (line.length * i / 40 for i in range(41)), key=lambda s: math.dist(line.at(s)[0], (sx, sy))
            )
            s = s_gate + rng.choice((-1.0, 1.0)) * rng.uniform(25.0, 140.0)
            if not 0.0 <= s <= line.length:
                yield None
                continue
            (x, y), heading = line.at(s)
            side = rng.choice((-1.0, 1.0))
            nx, ny = _unit(heading + 90.0 * side)
            p = (x + nx * 6.0, y + ny * 6.0)
            if not b.free(p):
                yield None
                continue
            b.take(p)
            look = (_bearing(sx - p[0], sy - p[1]) + rng.uniform(-10.0, 10.0)) % 360.0
            yield _Cam(p, Purpose.CHILD_PROTECTION, look, float(round(rng.uniform(70, 95))))

    weights = {spec.id: spec.weight for spec in _DISTRICTS}

    def crime() -> Iterator[_Cam | None]:
        streets = [s for s in local if weights[s.district or ""] > 0.3]
        w = [weights[s.district or ""] * s.length_m for s in streets]
        lines = {s.id: s.line() for s in streets}
        while True:
            line = lines[_weighted_street(rng, streets, w).id]
            yield _place_along(
                b,
                line,
                Purpose.CRIME,
                rng.uniform(8.0, line.length - 8.0),
                side_m=5.0,
                fov=(70, 100),
                no_dir=0.07,
            )

    def other() -> Iterator[_Cam | None]:
        parks = [p for p in b.places if p.kind == "park"]
        industrial = [s for s in local if weights[s.district or ""] <= 0.3]
        while True:
            if industrial and rng.random() < 0.5:
                line = rng.choice(industrial).line()
                yield _place_along(
                    b,
                    line,
                    Purpose.OTHER,
                    rng.uniform(0.0, line.length),
                    side_m=12.0,
                    fov=(60, 90),
                    no_dir=0.5,
                )
                continue
            park = rng.choice(parks)
            px, py = to_xy(park.lat, park.lon)
            a = rng.uniform(0.0, 360.0)
            ux, uy = _unit(a)
            p = (px + ux * rng.uniform(15.0, 40.0), py + uy * rng.uniform(15.0, 40.0))
            if not b.free(p):
                yield None
                continue
            b.take(p)
            yield (
                _Cam(p, Purpose.OTHER, None, None)
                if rng.random() < 0.5
                else _Cam(
                    p, Purpose.OTHER, _bearing(px - p[0], py - p[1]), float(round(rng.uniform(90, 120)))
                )
            )

    for purpose, gen in (
        (Purpose.TRAFFIC, traffic()),
        (Purpose.DISASTER, disaster()),
        (Purpose.CHILD_PROTECTION, child()),
        (Purpose.OTHER, other()),
        (Purpose.CRIME, crime()),
    ):
        fill(purpose, gen)
    return out


def _finish_cameras(raw: list[_Cam], districts: list[District], city_stub: City) -> tuple[Camera, ...]:
    order = {d.id: i for i, d in enumerate(districts)}
    located = []
    for cam in raw:
        lat, lon = to_latlon(*cam.xy)
        located.append((city_stub.district_at(lat, lon), lat, lon, cam))
    located.sort(key=lambda t: (order[t[0].id], -round(t[1], 4), round(t[2], 4)))
    counters: dict[str, int] = {}
    cameras = []
    for i, (district, lat, lon, cam) in enumerate(located):
        counters[district.id] = counters.get(district.id, 0) + 1
        main, sub = stream_urls(i, city_stub.live_count, city_stub.rtsp_port, city_stub.rtsp_host)
        cameras.append(
            Camera(
                id=f"JJ-{i + 1:04d}",
                name=f"{district.name_ko} {counters[district.id]} {PURPOSE_KO[cam.purpose]}",
                lat=round(lat, 6),
                lon=round(lon, 6),
                purpose=cam.purpose,
                direction_deg=None if cam.direction is None else round(cam.direction, 1),
                fov_deg=cam.fov,
                stream_main=main,
                stream_sub=sub,
            )
        )
    return tuple(cameras)


_DIRS_KO: Final = ("북", "북동", "동", "남동", "남", "남서", "서", "북서")


def _dir_ko(bearing: float) -> str:
    return _DIRS_KO[int(((bearing % 360.0) + 22.5) // 45.0) % 8]


def _facilities_and_sensors(b: _Builder, river: _Line) -> tuple[list[Facility], list[Sensor]]:
    rng = b.rng
    fac: list[Facility] = []
    sen: list[Sensor] = []
    main = [s for s in b.streets if s.kind == "main"]
    stub = City(0, tuple(b.districts), Street("river", "남강", "river", ()), (), (), (), (), (), 1, 1)

    def beside(street: Street, frac: float, dist: float) -> tuple[float, float, float, str]:
        line = street.line()
        (x, y), heading = line.at(frac * line.length)
        side = rng.choice((-1.0, 1.0))
        nx, ny = _unit(heading + 90.0 * side)
        lat, lon = to_latlon(x + nx * dist, y + ny * dist)
        # the entrance faces the road: from the site, the road lies opposite the offset
        return round(lat, 6), round(lon, 6), (heading - 90.0 * side) % 360.0, street.name

    def add(fid: str, name: str, kind: FacilityKind, lat: float, lon: float, notes: str) -> Facility:
        f = Facility(fid, name, lat, lon, kind, notes)
        fac.append(f)
        return f

    hazardous: list[Facility] = []
    # gas stations along the main roads
    for i in range(8):
        road = main[i % len(main)]
        lat, lon, entrance, road_name = beside(road, rng.uniform(0.15, 0.85), 30.0)
        dong = stub.district_at(lat, lon).name_ko
        name = f"{dong} {road_name} 주유소"
        if any(f.name == name for f in hazardous):
            name = f"{dong} {road_name} 제{i + 1}주유소"
        tanks = rng.randint(2, 4)
        volume = tanks * rng.choice((20, 25, 30))
        notes = (
            f"지하 저장탱크 {tanks}기(휘발유·경유 합계 약 {volume} kL). 차량 진입은 {road_name} 쪽 "
            f"{_dir_ko(entrance)}측 출입구 2곳. 주유기 비상정지 버튼: 사무실 입구 옆. 소화기 {rng.randint(4, 8)}대."
        )
        hazardous.append(
            add(f"JJ-HAZ-{len(hazardous) + 1:03d}", name, FacilityKind.HAZARDOUS, lat, lon, notes)
        )
    # LPG filling stations: one on the east side (하대동, the 119 scenario's), one west, one south
    for district_id, road_name in (("hadae", "동진로"), ("pyeonggeo", "진양호로"), ("gaho", "가좌로")):
        road = next(s for s in main if s.name == road_name)
        ring = b.rings_xy[district_id]
        line = road.line()
        inside = [line.length * k / 50 for k in range(51) if _inside(line.at(line.length * k / 50)[0], ring)]
        frac = (inside[len(inside) // 2] / line.length) if inside else 0.5
        lat, lon, entrance, _ = beside(road, frac, 35.0)
        tons = rng.choice((10, 15, 20))
        notes = (
            f"LPG 지상 저장탱크 {tons}톤. 폭발 위험: 탱크 반경 약 100 m 안 화기 금지, 소방차는 {_dir_ko(entrance)}측 "
            f"정문으로만 진입(높이 제한 없음). 가스 차단 밸브: 충전기 옆 {_dir_ko(entrance + 180)}측 외벽. "
            "살수 설비 수동 기동함: 사무동 1층."
        )
        name = f"{b.districts[[d.id for d in b.districts].index(district_id)].name_ko} LPG 충전소"
        hazardous.append(
            add(f"JJ-HAZ-{len(hazardous) + 1:03d}", name, FacilityKind.HAZARDOUS, lat, lon, notes)
        )
    # chemical plants in the industrial estate
    chems = (
        ("염산", "중화제(소석회)"),
        ("황산", "중화제(소석회)"),
        ("수산화나트륨", "중화제(구연산)"),
        ("톨루엔", "흡착포·폼 소화약제"),
    )
    ring = b.rings_xy["sangpyeong"]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    for i, (chem, kit) in enumerate(chems):
        while True:
            p = (rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys)))
            if _inside(p, ring) and all(math.dist(p, to_xy(f.lat, f.lon)) > 150 for f in hazardous):
                break
        lat, lon = to_latlon(*p)
        gate = rng.uniform(0, 360)
        notes = (
            f"유해화학물질 취급: {chem} 약 {rng.randint(5, 40)}톤. 정문 {_dir_ko(gate)}측, 비상 출입구 "
            f"{_dir_ko(gate + 180)}측. 방제 장비: {kit}, 방제함은 정문 경비실. 화학사고 시 풍향 확인 후 "
            "풍상측에서 접근, 공장 방재실과 먼저 연락."
        )
        hazardous.append(
            add(
                f"JJ-HAZ-{len(hazardous) + 1:03d}",
                f"상평산단 화학공장 {i + 1}",
                FacilityKind.HAZARDOUS,
                round(lat, 6),
                round(lon, 6),
                notes,
            )
        )
    # hydrants: two near every hazardous site
    n_hyd = 0
    for f in hazardous:
        fx, fy = to_xy(f.lat, f.lon)
        for _ in range(2):
            ux, uy = _unit(rng.uniform(0, 360))
            d = rng.uniform(30.0, 70.0)
            lat, lon = to_latlon(fx + ux * d, fy + uy * d)
            n_hyd += 1
            add(
                f"JJ-HYD-{n_hyd:03d}",
                f"지상식 소화전 {n_hyd}",
                FacilityKind.HYDRANT,
                round(lat, 6),
                round(lon, 6),
                f"{f.name} 인근, 65 mm 방수구 2개",
            )
    # hospitals (invented names) near main roads in the populated districts
    for i, (district_id, label, note) in enumerate(
        (
            ("chilam", "진주 칠암 대학병원(가상)", "권역응급의료센터, 응급실 24시간, 옥상 헬기장"),
            ("sangdae", "상대동 종합병원(가상)", "응급실 24시간, 화상 치료 가능"),
            ("pyeonggeo", "평거동 제일병원(가상)", "응급실 24시간"),
            ("chungmugong", "혁신도시 연합병원(가상)", "응급실 24시간, 소아 응급 진료"),
            ("jungang", "중앙동 의원(가상)", "야간 진료 22시까지, 응급실 없음"),
        )
    ):
        streets = [s for s in b.streets if s.district == district_id]
        lat, lon, _, _ = beside(rng.choice(streets), rng.uniform(0.3, 0.7), 30.0)
        add(f"JJ-HOS-{i + 1:03d}", label, FacilityKind.HOSPITAL, lat, lon, note)
    # shelters: every school, and one community centre per district
    n_shl = 0
    for place in b.places:
        if place.kind == "school":
            n_shl += 1
            add(
                f"JJ-SHL-{n_shl:03d}",
                f"{place.name} 체육관",
                FacilityKind.SHELTER,
                place.lat,
                place.lon,
                f"지진 옥외대피장소·임시주거시설, 수용 약 {rng.randint(3, 8) * 100}명",
            )
    for district in b.districts:
        streets = [s for s in b.streets if s.district == district.id]
        if not streets:
            continue
        lat, lon, _, _ = beside(rng.choice(streets), 0.5, 20.0)
        n_shl += 1
        add(
            f"JJ-SHL-{n_shl:03d}",
            f"{district.name_ko} 행정복지센터",
            FacilityKind.SHELTER,
            lat,
            lon,
            f"임시주거시설, 수용 약 {rng.randint(1, 3) * 100}명, 구호물자 비축",
        )

    # sensors: water-level gauges on the river
    for i in range(6):
        (x, y), _ = river.at(river.length * (i + 0.5) / 6)
        lat, lon = to_latlon(x, y)
        dong = stub.district_at(lat, lon).name_ko
        sen.append(
            Sensor(
                f"JJ-WL-{i + 1:03d}",
                f"남강 수위계 {i + 1} ({dong} 앞)",
                round(lat, 6),
                round(lon, 6),
                SensorKind.WATER_LEVEL,
                4.5,
            )
        )
    # gas detectors at the LPG stations and chemical plants (and two gas stations)
    n_gas = 0
    for f in [h for h in hazardous if "LPG" in h.name or "화학" in h.name] + hazardous[:2]:
        fx, fy = to_xy(f.lat, f.lon)
        ux, uy = _unit(rng.uniform(0, 360))
        lat, lon = to_latlon(fx + ux * 12.0, fy + uy * 12.0)
        n_gas += 1
        sen.append(
            Sensor(
                f"JJ-GAS-{n_gas:03d}",
                f"{f.name} 가스감지기",
                round(lat, 6),
                round(lon, 6),
                SensorKind.GAS,
                50.0,
            )
        )
    # emergency bells: one at every park, the rest in residential alleys
    n_bell = 0
    for place in b.places:
        if place.kind == "park":
            px, py = to_xy(place.lat, place.lon)
            ux, uy = _unit(rng.uniform(0, 360))
            lat, lon = to_latlon(px + ux * 25.0, py + uy * 25.0)
            n_bell += 1
            sen.append(
                Sensor(
                    f"JJ-BELL-{n_bell:03d}",
                    f"{place.name} 비상벨",
                    round(lat, 6),
                    round(lon, 6),
                    SensorKind.EMERGENCY_BELL,
                )
            )
    alleys = [s for s in b.streets if s.kind == "local" and s.district not in ("sangpyeong",)]
    for _ in range(12):
        s = rng.choice(alleys)
        line = s.line()
        (x, y), _ = line.at(rng.uniform(0.2, 0.8) * line.length)
        lat, lon = to_latlon(x, y)
        n_bell += 1
        sen.append(
            Sensor(
                f"JJ-BELL-{n_bell:03d}",
                f"{s.name} 안심비상벨",
                round(lat, 6),
                round(lon, 6),
                SensorKind.EMERGENCY_BELL,
            )
        )
    return fac, sen


def build_city(
    seed: int = 7,
    cameras: int = 400,
    live_count: int = 8,
    rtsp_port: int = 8554,
    rtsp_host: str = "127.0.0.1",
) -> City:
    """The demo city in memory (see the module docstring). Deterministic for its arguments."""
    if cameras < 1:
        raise ValueError("cameras must be at least 1")
    if live_count < 1:
        raise ValueError("live_count must be at least 1")
    rng = random.Random(seed)
    b = _Builder(rng)
    river_street = Street("river", "남강", "river", _RIVER)
    river = river_street.line()
    _build_districts(b)
    _build_streets(b, river)
    _build_places(b)
    facilities, sensors = _facilities_and_sensors(b, river)
    raw = _cameras(b, cameras, river)
    stub = City(seed, tuple(b.districts), river_street, (), (), (), (), (), live_count, rtsp_port, rtsp_host)
    return City(
        seed=seed,
        districts=tuple(b.districts),
        river=river_street,
        streets=tuple(b.streets),
        places=tuple(b.places),
        cameras=_finish_cameras(raw, b.districts, stub),
        facilities=tuple(facilities),
        sensors=tuple(sensors),
        live_count=live_count,
        rtsp_port=rtsp_port,
        rtsp_host=rtsp_host,
    )


# ---------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class CityFiles:
    """Where :func:`generate_city` wrote the city, and the city itself."""

    out_dir: Path
    cameras_csv: Path
    cameras_geojson: Path
    facilities_csv: Path
    sensors_csv: Path
    districts_geojson: Path
    streets_geojson: Path
    city: City

    @property
    def imports(self) -> tuple[tuple[Literal["cameras", "facilities", "sensors", "districts"], Path], ...]:
        """What to import, in order: the files ``main.py cameras|facilities|sensors|districts import``
        reads (the districts carry their 행정구역코드 under ``code``)."""
        return (
            ("cameras", self.cameras_csv),
            ("facilities", self.facilities_csv),
            ("sensors", self.sensors_csv),
            ("districts", self.districts_geojson),
        )


def _csv(rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def _fc(features: list[dict[str, Any]], **extra: Any) -> str:
    return (
        json.dumps({"type": "FeatureCollection", **extra, "features": features}, ensure_ascii=False, indent=1)
        + "\n"
    )


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def generate_city(
    out_dir: Path,
    seed: int = 7,
    cameras: int = 400,
    live_count: int = 8,
    rtsp_port: int = 8554,
    *,
    rtsp_host: str = "127.0.0.1",
) -> CityFiles:
    """Build the city and write its files into ``out_dir`` (created if needed; files replaced)."""
    city = build_city(seed, cameras, live_count, rtsp_port, rtsp_host)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = CityFiles(
        out_dir=out_dir,
        cameras_csv=out_dir / "cameras.csv",
        cameras_geojson=out_dir / "cameras.geojson",
        facilities_csv=out_dir / "facilities.csv",
        sensors_csv=out_dir / "sensors.csv",
        districts_geojson=out_dir / "districts.geojson",
        streets_geojson=out_dir / "streets.geojson",
        city=city,
    )
    cam_cols = (
        "id",
        "name",
        "lat",
        "lon",
        "purpose",
        "direction_deg",
        "fov_deg",
        "stream_main",
        "stream_sub",
    )
    _write(
        files.cameras_csv,
        _csv(
            [cam_cols]
            + [
                (
                    c.id,
                    c.name,
                    f"{c.lat:.6f}",
                    f"{c.lon:.6f}",
                    c.purpose.value,
                    c.direction_deg,
                    c.fov_deg,
                    c.stream_main,
                    c.stream_sub,
                )
                for c in city.cameras
            ]
        ),
    )
    _write(
        files.cameras_geojson,
        _fc(
            [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                    "properties": {
                        "id": c.id,
                        "name": c.name,
                        "purpose": c.purpose.value,
                        "direction_deg": c.direction_deg,
                        "fov_deg": c.fov_deg,
                        "stream_main": c.stream_main,
                        "stream_sub": c.stream_sub,
                    },
                }
                for c in city.cameras
            ]
        ),
    )
    _write(
        files.facilities_csv,
        _csv(
            [("id", "name", "lat", "lon", "kind", "notes")]
            + [(f.id, f.name, f"{f.lat:.6f}", f"{f.lon:.6f}", f.kind.value, f.notes) for f in city.facilities]
        ),
    )
    _write(
        files.sensors_csv,
        _csv(
            [("id", "name", "lat", "lon", "kind", "threshold")]
            + [
                (s.id, s.name, f"{s.lat:.6f}", f"{s.lon:.6f}", s.kind.value, s.threshold)
                for s in city.sensors
            ]
        ),
    )
    _write(
        files.districts_geojson,
        _fc(
            [
                {
                    "type": "Feature",
                    "id": d.id,
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[lon, lat] for lat, lon in (*d.ring, d.ring[0])]],
                    },
                    "properties": {
                        "id": d.id,
                        "code": d.code,
                        "name": d.name_ko,
                        "name_en": d.name_en,
                        "kind": d.kind,
                    },
                }
                for d in city.districts
            ],
            name="Jinju demo districts (approximate, hand-drawn)",
        ),
    )
    _write(
        files.streets_geojson,
        _fc(
            [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in s.points]},
                    "properties": {"id": s.id, "name": s.name, "kind": s.kind, "district": s.district},
                }
                for s in (city.river, *city.streets)
            ]
        ),
    )
    return files

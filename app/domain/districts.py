"""Administrative districts: GeoJSON shapes with a code, and the Korean 행정구역코드 hierarchy.

A district is one or more polygons (each an outer ring with optional holes) under a code. Korean
administrative-area codes (행정구역코드, 10 digits) nest by prefix: trailing zeros mark the level.

- ``1100000000`` (8 trailing zeros): a 시도; it covers every code starting ``11``.
- ``4311000000`` (5 trailing zeros): a 시군구. When its fifth digit is 0 it is a city with 일반구
  (청주시 covers 상당구 ``4311100000`` …), so the prefix is the first 4 digits; else (a 구/군, a 일반구)
  the first 5.
- ``4817051500`` (2 trailing zeros): an 읍면동; it covers its 리 (first 8 digits).
- anything else: that code only (a 리).

Pure functions only: the store keeps the GeoJSON text and its box, the engine turns it into shapes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Final

from app.domain.geo import BBox, GeoPoint, Polygon

ADMIN_CODE_VALUE_NAME: Final = "행정구역코드"
MAX_DISTRICT_POINTS: Final = 200_000
"""Vertices one district may have (every ring of every polygon)."""
MAX_CODE_LEN: Final = 40
MAX_NAME_LEN: Final = 200


class DistrictError(ValueError):
    """A district file or feature that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DistrictPart:
    """One polygon of a district: its outer ring and its holes."""

    outer: Polygon
    holes: tuple[Polygon, ...] = ()

    def contains(self, point: GeoPoint) -> bool:
        return self.outer.contains(point) and not any(h.contains(point) for h in self.holes)


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    parts: tuple[DistrictPart, ...]
    properties: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def bbox(self) -> BBox:
        boxes = [p.outer.bbox() for p in self.parts]
        return BBox(
            min(b.south for b in boxes),
            min(b.west for b in boxes),
            max(b.north for b in boxes),
            max(b.east for b in boxes),
        )

    def contains(self, point: GeoPoint) -> bool:
        return any(p.contains(point) for p in self.parts)

    def geometry(self) -> dict[str, Any]:
        """The district as a GeoJSON MultiPolygon geometry (lon, lat order)."""
        return {
            "type": "MultiPolygon",
            "coordinates": [[_ring_json(p.outer), *(_ring_json(h) for h in p.holes)] for p in self.parts],
        }


def _ring_json(poly: Polygon) -> list[list[float]]:
    pts = [[p.lon, p.lat] for p in poly.points]
    return [*pts, pts[0]]


# ---------------------------------------------------------------- 행정구역코드


def normalise_code(code: str) -> str:
    """A district code as stored: trimmed; an all-digit code of 2 (시도), 5 (시군구) or 8 (읍면동) digits is
    padded with zeros to the 10-digit 행정구역코드 (files often carry ``11110`` for ``1111000000``)."""
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) in (2, 5, 8):
        return code.ljust(10, "0")
    return code


def is_admin_code(code: str) -> bool:
    return len(code) == 10 and code.isascii() and code.isdigit()


def admin_code_prefix(code: str) -> str:
    """The prefix every code under ``code`` starts with (the module docstring gives the rule).

    Raises DistrictError for a value that is not a 10-digit code."""
    if not is_admin_code(code):
        raise DistrictError(f"{code!r} is not a 10-digit 행정구역코드")
    if code.endswith("00000000"):
        return code[:2]
    if code.endswith("00000"):
        return code[:4] if code[4] == "0" else code[:5]
    if code.endswith("00"):
        return code[:8]
    return code


# ---------------------------------------------------------------- GeoJSON


@dataclass
class ParsedDistricts:
    districts: list[District]
    problems: list[str]  # "feature 3: …", one per refused feature


def parse_district_geojson(
    data: bytes | str, code_property: str = "code", name_property: str = "name"
) -> ParsedDistricts:
    """Districts from a GeoJSON FeatureCollection of Polygons and MultiPolygons.

    Raises DistrictError when the file as a whole is unusable; a bad feature is reported by index
    (0-based, as in the file) and the others are kept. A code seen twice keeps its last feature and
    reports the earlier one."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DistrictError(f"not a JSON document: {exc}") from None
    except RecursionError:
        raise DistrictError("not a usable JSON document: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise DistrictError(f"expected a GeoJSON FeatureCollection, got {kind!r}")
    features = doc.get("features")
    if not isinstance(features, list):
        raise DistrictError("the FeatureCollection has no 'features' list")
    by_code: dict[str, tuple[int, District]] = {}
    problems: list[str] = []
    for i, feature in enumerate(features):
        try:
            district = _feature(feature, code_property, name_property)
        except DistrictError as exc:
            problems.append(f"feature {i}: {exc}")
            continue
        if district.code in by_code:
            problems.append(
                f"feature {by_code[district.code][0]}: code {district.code} appears again in feature {i}; "
                "the later one is kept"
            )
        by_code[district.code] = (i, district)
    return ParsedDistricts([d for _, d in sorted(by_code.values(), key=lambda x: x[0])], problems)


def _feature(feature: object, code_property: str, name_property: str) -> District:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise DistrictError("not a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    raw_code = props.get(code_property)
    if raw_code is None or isinstance(raw_code, bool | dict | list) or not str(raw_code).strip():
        raise DistrictError(f"no {code_property!r} property")
    code = normalise_code(str(raw_code))
    if len(code) > MAX_CODE_LEN:
        raise DistrictError(f"code {code[:50]!r} is longer than {MAX_CODE_LEN} characters")
    raw_name = props.get(name_property)
    name = code if raw_name is None else str(raw_name).strip()[:MAX_NAME_LEN] or code
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise DistrictError(f"district {code}: no geometry")
    parts = geometry_parts(geometry, f"district {code}")
    clean = {k: v for k, v in props.items() if isinstance(v, str | int | float | bool) or v is None}
    return District(code=code, name=name, parts=parts, properties=clean)


def geometry_parts(geometry: dict[str, Any], what: str = "geometry") -> tuple[DistrictPart, ...]:
    """A GeoJSON Polygon or MultiPolygon geometry as district parts; DistrictError says what is wrong."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise DistrictError(f"{what}: a MultiPolygon needs a non-empty list of polygons")
        polygons = coords
    else:
        raise DistrictError(f"{what}: geometry type {kind!r}; only Polygon and MultiPolygon are districts")
    total = 0
    parts: list[DistrictPart] = []
    for p, rings in enumerate(polygons):
        where = f"{what}, polygon {p}" if kind == "MultiPolygon" else what
        if not isinstance(rings, list) or not rings:
            raise DistrictError(f"{where}: a polygon needs at least its outer ring")
        shapes = []
        for r, ring in enumerate(rings):
            shape = _ring(ring, f"{where}, ring {r}")
            total += len(shape.points)
            if total > MAX_DISTRICT_POINTS:
                raise DistrictError(f"{what}: more than {MAX_DISTRICT_POINTS} vertices")
            shapes.append(shape)
        parts.append(DistrictPart(shapes[0], tuple(shapes[1:])))
    return tuple(parts)


def _ring(ring: object, where: str) -> Polygon:
    if not isinstance(ring, list) or len(ring) < 4:
        raise DistrictError(f"{where}: a linear ring needs at least 4 positions")
    points: list[GeoPoint] = []
    for k, pos in enumerate(ring):
        if (
            not isinstance(pos, list)
            or len(pos) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            raise DistrictError(f"{where}, position {k}: expected [lon, lat] numbers")
        lon, lat = float(pos[0]), float(pos[1])
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise DistrictError(f"{where}, position {k}: [{pos[0]}, {pos[1]}] is not a longitude, latitude")
        points.append(GeoPoint(lat, lon))
    if points[0] == points[-1]:
        points.pop()
    try:
        return Polygon(tuple(points))
    except ValueError as exc:
        raise DistrictError(f"{where}: {exc}") from None


def district_from_geometry(
    code: str, name: str, geometry_text: str, properties: dict[str, Any] | None = None
) -> District:
    """A stored district back as shapes (the store keeps the GeoJSON geometry as text)."""
    geometry = json.loads(geometry_text)
    return District(code, name, geometry_parts(geometry, f"district {code}"), properties or {})

"""What the map draws for the selected incident, and which cameras lie in an area (pure, no Qt).

- every area of the incident: the one it was raised with and every area of a CAP alert, which the
  engine keeps in ``details["areas"]`` (``{"circle": {...}}`` / ``{"polygon": [[lat, lon], ...]}``);
- the SOS person's track with each fix's local time (``HH:MM:SS``);
- the 119 facilities near it with their access notes;
- dispatched units' last positions, when the agency sends them (``details["unit_positions"]``).

:func:`cameras_in_area` answers "which cameras are in what the operator drew", for sending them to the
video wall.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from app.domain.geo import Circle, GeoPoint, Polygon, distance_m
from app.formats.api import IncidentDetailOut, IncidentOut

__all__ = ["MAX_AREA_CAMERAS", "cameras_in_area", "incident_overlays", "parse_area"]

#: More than this many cameras in a drawn area: the nearest to its centre go on the wall.
MAX_AREA_CAMERAS = 16


class _Cam(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


def parse_area(area: Any) -> Circle | Polygon | None:
    """An area in the engine's JSON shape as a domain shape (None when it is not usable)."""
    try:
        if isinstance(area, dict) and isinstance(area.get("circle"), dict):
            c = area["circle"]
            return Circle(GeoPoint(float(c["lat"]), float(c["lon"])), float(c["radius_m"]))
        if isinstance(area, dict) and isinstance(area.get("polygon"), list):
            return Polygon(tuple(GeoPoint(float(p[0]), float(p[1])) for p in area["polygon"]))
    except (ValueError, TypeError, KeyError, IndexError):
        pass
    return None


def _area_json(shape: Circle | Polygon) -> dict[str, Any]:
    if isinstance(shape, Circle):
        return {"circle": {"lat": shape.center.lat, "lon": shape.center.lon, "radius_m": shape.radius_m}}
    return {"polygon": [[p.lat, p.lon] for p in shape.points]}


def _local_time(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")


def incident_overlays(detail: IncidentOut) -> dict[str, Any]:
    """``{"areas": [...], "track": [...], "facilities": [...], "units": [...]}`` for the map (a plain
    incident has no track or facilities: those lists are empty)."""
    areas: list[dict[str, Any]] = []
    raw_areas = detail.details.get("areas") if isinstance(detail.details, dict) else None
    for a in raw_areas if isinstance(raw_areas, list) else []:
        shape = parse_area(a)
        if shape is not None:
            areas.append(_area_json(shape))
    full = detail if isinstance(detail, IncidentDetailOut) else None
    track = [{"lat": p.lat, "lon": p.lon, "at": _local_time(p.at)} for p in (full.track if full else [])]
    facilities = [
        {"id": f.id, "name": f.name, "kind": f.kind, "lat": f.lat, "lon": f.lon, "notes": f.notes}
        for f in (full.facilities if full else [])
    ]
    units: list[dict[str, Any]] = []
    raw_units = detail.details.get("unit_positions") if isinstance(detail.details, dict) else None
    for u in raw_units if isinstance(raw_units, list) else []:
        if not isinstance(u, dict):
            continue
        try:
            pt = GeoPoint(float(u["lat"]), float(u["lon"]))
        except (ValueError, TypeError, KeyError):
            continue
        at = u.get("at")
        when = ""
        if isinstance(at, str):
            try:
                when = _local_time(datetime.fromisoformat(at))
            except ValueError:
                when = ""
        units.append(
            {
                "id": str(u.get("id", ""))[:64],
                "kind": str(u.get("kind", ""))[:40],
                "lat": pt.lat,
                "lon": pt.lon,
                "at": when,
            }
        )
    return {"areas": areas, "track": track, "facilities": facilities, "units": units}


def cameras_in_area(area: Any, cameras: Iterable[_Cam], limit: int = MAX_AREA_CAMERAS) -> list[str]:
    """Ids of the cameras inside ``area`` (the engine's JSON shape), nearest its centre first."""
    shape = parse_area(area)
    if shape is None:
        return []
    if isinstance(shape, Circle):
        center = shape.center
    else:
        pts: Sequence[GeoPoint] = shape.points
        center = GeoPoint(sum(p.lat for p in pts) / len(pts), sum(p.lon for p in pts) / len(pts))
    inside: list[tuple[float, str]] = []
    for cam in cameras:
        pt = GeoPoint.checked(cam.lat, cam.lon)
        if pt is not None and shape.contains(pt):
            inside.append((distance_m(center, pt), cam.id))
    inside.sort()
    return [cam_id for _, cam_id in inside[:limit]]


def districts_geojson(districts: Iterable[Any]) -> dict[str, Any]:
    """The engine's districts (``DistrictOut`` with geometry) as the GeoJSON the map draws."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": d.name, "code": d.code},
            "geometry": d.geometry,
        }
        for d in districts
        if isinstance(getattr(d, "geometry", None), dict)
        and d.geometry.get("type") in ("Polygon", "MultiPolygon")
    ]
    return {"type": "FeatureCollection", "features": features}

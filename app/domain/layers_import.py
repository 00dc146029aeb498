"""Sensor and facility layers from files, read like cameras (see `app.domain.camera_import`).

Formats, recognised by content:

* CSV (comma or tab), header ``id,name,lat,lon,kind[,threshold][,notes][,agency_id]`` in any order.
  Sensors use ``threshold`` (a finite number, empty when the device alarms by itself) and ``agency_id``
  (the gateway agency whose key posts its events) and ignore ``notes``;
  facilities use ``notes`` and ignore ``threshold`` and ``agency_id``. ``kind`` is a `SensorKind` or `FacilityKind`
  value (case and ``_``/``-`` insensitive).
* GeoJSON FeatureCollection of Points with the same properties.

Each rejected row is reported with its 1-based line and the reason; only an unrecognisable file raises
`ValueError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from app.domain.enums import FacilityKind, SensorKind
from app.domain.import_common import (
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    ErrorLog,
    RowError,
    RowRejected,
    check_size,
    decode_text,
    duplicate_columns,
    feature_point,
    feature_properties,
    float_value,
    id_value,
    iter_csv_rows,
    looks_like_json,
    position_value,
    read_csv_header,
    read_geojson_features,
    shown,
    text_value,
    unknown_columns,
)
from app.domain.layers import Facility, Sensor

__all__ = [
    "FacilityImportResult",
    "RowError",
    "SensorImportResult",
    "parse_facilities",
    "parse_sensors",
]

_K = TypeVar("_K", bound=StrEnum)
_T = TypeVar("_T")

_COLUMNS = {"id", "name", "lat", "lon", "kind", "threshold", "notes", "agency_id"}
_REQUIRED = ("id", "lat", "lon", "kind")


@dataclass(slots=True)
class SensorImportResult:
    sensors: list[Sensor] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(slots=True)
class FacilityImportResult:
    facilities: list[Facility] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _kind(enum: type[_K], value: object) -> _K:
    names = ", ".join(k.value for k in enum)
    text = text_value(value, "kind", 100)
    if not text:
        raise RowRejected(f"kind is empty (one of {names})")
    try:
        return enum(text.lower().replace("_", "-"))
    except ValueError:
        raise RowRejected(f"kind {shown(text)} is not one of {names}") from None


def _sensor(fields: Mapping[str, object], lat: float, lon: float) -> Sensor:
    sensor_id = id_value(fields.get("id"))
    return Sensor(
        id=sensor_id,
        name=text_value(fields.get("name"), "name", MAX_NAME_CHARS) or sensor_id,
        lat=lat,
        lon=lon,
        kind=_kind(SensorKind, fields.get("kind")),
        threshold=float_value(fields.get("threshold"), "threshold"),
        agency_id=text_value(fields.get("agency_id"), "agency_id", 64) or None,
    )


def _facility(fields: Mapping[str, object], lat: float, lon: float) -> Facility:
    facility_id = id_value(fields.get("id"))
    return Facility(
        id=facility_id,
        name=text_value(fields.get("name"), "name", MAX_NAME_CHARS) or facility_id,
        lat=lat,
        lon=lon,
        kind=_kind(FacilityKind, fields.get("kind")),
        notes=text_value(fields.get("notes"), "notes", MAX_NOTES_CHARS),
    )


def _records(
    data: bytes, filename: str, what: str, errors: ErrorLog
) -> Iterator[tuple[int, Mapping[str, object], tuple[float, float] | RowRejected]]:
    """(line, fields, position or the reason it is unusable) for every row or feature."""
    check_size(data)
    decoded = decode_text(data)
    text = decoded.text
    if looks_like_json(text):
        for line, feature in read_geojson_features(text, decoded, errors):
            try:
                props = feature_properties(feature)
            except RowRejected as exc:
                errors.add(line, exc.reason)
                continue
            try:
                position: tuple[float, float] | RowRejected = feature_point(feature)
            except RowRejected as exc:
                position = exc
            yield line, props, position
        return
    header = read_csv_header(text)
    if header is None or not {"id", "lat", "lon"} <= set(header[1]):
        raise ValueError(
            f"{filename}: not a {what} file GoldenTime can read (expected a CSV with header "
            "id,name,lat,lon,kind[,threshold][,notes] or a GeoJSON FeatureCollection of Points)"
        )
    header_line, columns, dialect = header
    duplicate_columns(columns)
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise ValueError(f"{filename}: {what} CSV header lacks column(s): {', '.join(missing)}")
    unknown_columns(columns, _COLUMNS, header_line, errors)
    for line, row in iter_csv_rows(text, dialect, header_line, columns, decoded, errors):
        try:
            position = position_value(row.get("lat"), row.get("lon"))
        except RowRejected as exc:
            position = exc
        yield line, row, position


def _parse(
    data: bytes,
    filename: str,
    what: str,
    build: Callable[[Mapping[str, object], float, float], _T],
    id_of: Callable[[_T], str],
) -> tuple[list[_T], list[RowError]]:
    errors = ErrorLog()
    items: list[_T] = []
    first_line: dict[str, int] = {}
    for line, fields, position in _records(data, filename, what, errors):
        try:
            if isinstance(position, RowRejected):
                raise position
            item = build(fields, *position)
            first = first_line.setdefault(id_of(item), line)
            if first != line:
                raise RowRejected(f"duplicate id {id_of(item)!r} (first on line {first})")
        except RowRejected as exc:
            errors.add(line, exc.reason)
            continue
        items.append(item)
    return items, errors.result()


def parse_sensors(data: bytes, filename: str) -> SensorImportResult:
    """Read sensors from ``data`` (the bytes of ``filename``)."""
    sensors, errors = _parse(data, filename, "sensor", _sensor, lambda s: s.id)
    return SensorImportResult(sensors, errors)


def parse_facilities(data: bytes, filename: str) -> FacilityImportResult:
    """Read facilities from ``data`` (the bytes of ``filename``)."""
    facilities, errors = _parse(data, filename, "facility", _facility, lambda f: f.id)
    return FacilityImportResult(facilities, errors)

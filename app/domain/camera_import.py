"""Camera lists from files: GoldenTime CSV, GeoJSON, and Korea's national CCTV standard data.

Formats (recognised by content; the file name only names the file in messages):

* GoldenTime CSV, header ``id,name,lat,lon,purpose,direction_deg,fov_deg,stream_main,stream_sub``
  (columns in any order; ``direction_deg``, ``fov_deg`` and the streams optional and may be empty;
  ``purpose`` one of crime, traffic, disaster, child-protection, other). Comma or tab separated.
* GeoJSON FeatureCollection of Points, coordinates ``[lon, lat]``, the other fields as properties (a
  feature's top-level ``id`` stands in for a missing ``properties.id``).
* 전국CCTV표준데이터 (the national CCTV standard data published by every local government on
  data.go.kr): header 관리기관명, 소재지도로명주소, 소재지지번주소, 설치목적구분, 카메라대수, 카메라화소수,
  촬영방면정보, 보관일수, 설치연월, 관리기관전화번호, WGS84위도, WGS84경도, 데이터기준일자 (older files:
  위도/경도, 설치년월, a leading 번호, trailing 제공기관코드/제공기관명; extra columns are ignored), in
  UTF-8 with or without BOM, or CP949.

  The rules (identity, repeats, the holding list, approximate positions, purposes) are in
  `app.domain.kr_register`; a column mapping reads a city's own list with other column names.

A row that cannot be used is reported with its 1-based line and the reason; the others are imported.
Only a file whose format cannot be recognised at all raises `ValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.domain.camera import Camera
from app.domain.enums import Purpose
from app.domain.import_common import (
    MAX_NAME_CHARS,
    CsvDialect,
    DecodedText,
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
    url_value,
)
from app.domain.kr_register import (
    KR_PURPOSES,
    LAYOUTS,
    MARKERS,
    MAX_CAMERAS_PER_ROW,
    HeldRow,
    map_columns,
    parse_register,
)

__all__ = [
    "KR_PURPOSES",
    "MAX_CAMERAS_PER_ROW",
    "HeldRow",
    "ImportResult",
    "RowError",
    "parse_cameras",
    "parse_purpose",
]

FORMAT_CSV = "goldentime-csv"
FORMAT_GEOJSON = "geojson"
FORMAT_KR = "kr-cctv-standard"

_CSV_COLUMNS = {
    "id",
    "name",
    "lat",
    "lon",
    "purpose",
    "direction_deg",
    "fov_deg",
    "stream_main",
    "stream_sub",
}
_CSV_REQUIRED = ("id", "lat", "lon", "purpose")
_PURPOSE_NAMES = ", ".join(p.value for p in Purpose)


@dataclass(slots=True)
class ImportResult:
    """Cameras read from a file, the rows refused (``errors``), held for a position, repeated or imported
    with a warning, and the format recognised. Every count is exact."""

    cameras: list[Camera] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    format: str = ""
    held: list[HeldRow] = field(default_factory=list)
    repeats: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    refused: int = 0
    provider_names: frozenset[str] = frozenset()
    provider_codes: frozenset[str] = frozenset()

    def problems(self) -> list[RowError]:
        """Every refused, held, repeated and warned row, by line."""
        held = [RowError(h.line, h.reason, "held", h.code) for h in self.held]
        return sorted([*self.errors, *held, *self.repeats, *self.warnings], key=lambda e: e.line)


def parse_purpose(value: object) -> Purpose:
    """A GoldenTime purpose name (case and ``_``/``-`` insensitive); RowRejected otherwise."""
    text = text_value(value, "purpose", 100)
    if not text:
        raise RowRejected(f"purpose is empty (one of {_PURPOSE_NAMES})")
    try:
        return Purpose(text.lower().replace("_", "-"))
    except ValueError:
        raise RowRejected(f"purpose {shown(text)} is not one of {_PURPOSE_NAMES}") from None


def parse_cameras(data: bytes, filename: str, columns: Mapping[str, str] | None = None) -> ImportResult:
    """Read cameras from ``data`` (the bytes of ``filename``). See the module docstring.

    ``columns`` maps a file's own column names to the register's (``{"자치구": "관리기관명", …}``).
    """
    check_size(data)
    decoded = decode_text(data)
    text = decoded.text
    errors = ErrorLog()
    if looks_like_json(text):
        cameras = _from_geojson(text, decoded, errors)
        return _simple(cameras, errors, FORMAT_GEOJSON)
    header = read_csv_header(text)
    found: list[str] = []
    if header is not None:
        line, found, dialect = header
        mapped = map_columns(found, columns)
        names = set(mapped)
        if names & MARKERS:
            errors.unbounded = True
            duplicate_columns(mapped)
            reg = parse_register(text, decoded, line, mapped, dialect, errors)
            return ImportResult(
                reg.cameras,
                errors.result(),
                FORMAT_KR,
                held=reg.held,
                repeats=reg.repeats,
                warnings=reg.warnings,
                rows_read=reg.rows_read + errors.count - reg.refused_rows,
                refused=errors.count,
                provider_names=frozenset(reg.provider_names),
                provider_codes=frozenset(reg.provider_codes),
            )
        if {"id", "lat", "lon"} <= names:
            cameras = _from_csv(text, decoded, line, mapped, dialect, errors)
            return _simple(cameras, errors, FORMAT_CSV)
    shown_columns = ", ".join(c for c in found if c)[:500] or "none"
    raise ValueError(
        f"{filename}: not a camera file GoldenTime can read. Columns found: {shown_columns}. "
        f"Layouts known: {'; '.join(LAYOUTS)}. A city's own list is read with a column mapping "
        "(--columns 'its column=관리기관명,…' or [cameras.columns] in the settings)."
    )


def _simple(cameras: list[Camera], errors: ErrorLog, fmt: str) -> ImportResult:
    return ImportResult(
        cameras, errors.result(), fmt, rows_read=len(cameras) + errors.count, refused=errors.count
    )


# -- GoldenTime CSV and GeoJSON -------------------------------------------------------------------------


def _camera_from_fields(fields: Mapping[str, object], lat: float, lon: float) -> Camera:
    camera_id = id_value(fields.get("id"))
    name = text_value(fields.get("name"), "name", MAX_NAME_CHARS) or camera_id
    purpose = parse_purpose(fields.get("purpose"))
    direction = float_value(fields.get("direction_deg"), "direction_deg")
    if direction is not None:
        if not 0.0 <= direction <= 360.0:
            raise RowRejected(f"direction_deg {direction!r} is outside [0, 360]")
        direction = direction % 360.0
    fov = float_value(fields.get("fov_deg"), "fov_deg")
    if fov is not None and not 0.0 < fov <= 360.0:
        raise RowRejected(f"fov_deg {fov!r} is outside (0, 360]")
    return Camera(
        id=camera_id,
        name=name,
        lat=lat,
        lon=lon,
        purpose=purpose,
        direction_deg=direction,
        fov_deg=fov,
        stream_main=url_value(fields.get("stream_main"), "stream_main"),
        stream_sub=url_value(fields.get("stream_sub"), "stream_sub"),
    )


class _Unique:
    """Rejects a second camera with an id already imported from the same file."""

    def __init__(self) -> None:
        self._first_line: dict[str, int] = {}

    def check(self, camera_id: str, line: int, why: str = "") -> None:
        first = self._first_line.setdefault(camera_id, line)
        if first != line:
            raise RowRejected(f"duplicate id {camera_id!r} (first on line {first}){why}")


def _from_csv(
    text: str,
    decoded: DecodedText,
    header_line: int,
    columns: list[str],
    dialect: CsvDialect,
    errors: ErrorLog,
) -> list[Camera]:
    duplicate_columns(columns)
    missing = [c for c in _CSV_REQUIRED if c not in columns]
    if missing:
        raise ValueError(f"camera CSV header lacks column(s): {', '.join(missing)}")
    unknown_columns(columns, _CSV_COLUMNS, header_line, errors)
    cameras: list[Camera] = []
    unique = _Unique()
    for line, row in iter_csv_rows(text, dialect, header_line, columns, decoded, errors):
        try:
            lat, lon = position_value(row.get("lat"), row.get("lon"))
            camera = _camera_from_fields(row, lat, lon)
            unique.check(camera.id, line)
        except RowRejected as exc:
            errors.add(line, exc.reason)
            continue
        cameras.append(camera)
    return cameras


def _from_geojson(text: str, decoded: DecodedText, errors: ErrorLog) -> list[Camera]:
    cameras: list[Camera] = []
    unique = _Unique()
    for line, feature in read_geojson_features(text, decoded, errors):
        try:
            props = feature_properties(feature)
            lat, lon = feature_point(feature)
            camera = _camera_from_fields(props, lat, lon)
            unique.check(camera.id, line)
        except RowRejected as exc:
            errors.add(line, exc.reason)
            continue
        cameras.append(camera)
    return cameras

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

  설치목적구분 holds one of ten values in the published files: 생활방범, 다목적, 어린이보호, 교통단속,
  교통정보수집, 시설물관리, 재난재해, 쓰레기단속, 차량방범, 기타. They map to `Purpose` as:

  ========================================  ===================  ==========================================
  설치목적구분                               Purpose              why
  ========================================  ===================  ==========================================
  생활방범, 방범, 다목적                     crime                street crime prevention; 다목적 poles are
                                                                 mostly crime prevention plus other uses
  차량방범                                   crime                number-plate cameras the police use to
                                                                 track wanted vehicles, not traffic control
  교통단속, 교통정보수집, 교통정보           traffic              enforcement and traffic-flow cameras
  재난재해, 재난, 재해, 산불감시, 하천감시   disaster             disaster watch (floods, forest fires)
  어린이보호, 어린이보호구역                 child-protection     school zones, playgrounds, kindergartens
  시설물관리, 쓰레기단속, 기타               other                facility (parks, car parks, buildings) and
                                                                 litter watching, anything else
  ========================================  ===================  ==========================================

  Values compare without white space and without a trailing 용 (방범용 = 방범); a value listing several
  purposes (``생활방범,어린이보호``, ``생활방범/어린이보호``) takes the first one that maps. Any other
  value rejects the row. 촬영방면정보 is free text (``북측 4가``), so direction stays unknown.

  A row stands for 카메라대수 cameras at one place: it yields that many cameras with ids
  ``KR-<12 hex of SHA-256 over 관리기관명, both addresses, 설치목적구분, 설치연월, lat, lon>-<n>`` (n from
  1), so importing the same file again, or a later edition of it, gives the same ids (설치연월 keeps
  apart cameras added to the same pole in another year; two rows equal in all of these are one
  duplicate, and the second is rejected); names are the road
  address (else the lot address, else the agency) with ``#n``. Rows outside South Korea's extent
  (33-39°N, 124-132°E) are rejected, naming swapped latitude and longitude when that is the cause.

A row that cannot be used is reported with its 1-based line and the reason; the others are imported.
Only a file whose format cannot be recognised at all raises `ValueError`.
"""

from __future__ import annotations

import hashlib
import re
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
    check_position,
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
    required_float,
    shown,
    text_value,
    unknown_columns,
    url_value,
)

__all__ = [
    "KR_PURPOSES",
    "MAX_CAMERAS_PER_ROW",
    "ImportResult",
    "RowError",
    "parse_cameras",
    "parse_purpose",
]

FORMAT_CSV = "goldentime-csv"
FORMAT_GEOJSON = "geojson"
FORMAT_KR = "kr-cctv-standard"

MAX_CAMERAS_PER_ROW = 500
"""A 카메라대수 above this is taken for a typing error rather than a real site."""

KR_PURPOSES: Mapping[str, Purpose] = {
    "생활방범": Purpose.CRIME,
    "방범": Purpose.CRIME,
    "다목적": Purpose.CRIME,
    "차량방범": Purpose.CRIME,
    "교통단속": Purpose.TRAFFIC,
    "교통정보수집": Purpose.TRAFFIC,
    "교통정보": Purpose.TRAFFIC,
    "재난재해": Purpose.DISASTER,
    "재난": Purpose.DISASTER,
    "재해": Purpose.DISASTER,
    "산불감시": Purpose.DISASTER,
    "하천감시": Purpose.DISASTER,
    "어린이보호": Purpose.CHILD_PROTECTION,
    "어린이보호구역": Purpose.CHILD_PROTECTION,
    "시설물관리": Purpose.OTHER,
    "쓰레기단속": Purpose.OTHER,
    "기타": Purpose.OTHER,
}

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
_KR_MARKERS = {"관리기관명", "설치목적구분", "카메라대수"}
_KR_LAT = ("wgs84위도", "위도")
_KR_LON = ("wgs84경도", "경도")
_KR_INSTALLED = ("설치연월", "설치년월")
_KR_SPLIT = re.compile(r"[,/+·ㆍ|;]")
_COUNT = re.compile(r"\d{1,9}(?:\.0*)?")
_PURPOSE_NAMES = ", ".join(p.value for p in Purpose)


@dataclass(slots=True)
class ImportResult:
    """Cameras read from a file, the rows that were rejected, and the format recognised."""

    cameras: list[Camera] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    format: str = ""


def parse_purpose(value: object) -> Purpose:
    """A GoldenTime purpose name (case and ``_``/``-`` insensitive); RowRejected otherwise."""
    text = text_value(value, "purpose", 100)
    if not text:
        raise RowRejected(f"purpose is empty (one of {_PURPOSE_NAMES})")
    try:
        return Purpose(text.lower().replace("_", "-"))
    except ValueError:
        raise RowRejected(f"purpose {shown(text)} is not one of {_PURPOSE_NAMES}") from None


def parse_cameras(data: bytes, filename: str) -> ImportResult:
    """Read cameras from ``data`` (the bytes of ``filename``). See the module docstring."""
    check_size(data)
    decoded = decode_text(data)
    text = decoded.text
    errors = ErrorLog()
    if looks_like_json(text):
        cameras = _from_geojson(text, decoded, errors)
        return ImportResult(cameras, errors.result(), FORMAT_GEOJSON)
    header = read_csv_header(text)
    if header is not None:
        line, columns, dialect = header
        names = set(columns)
        if names & _KR_MARKERS:
            cameras = _from_kr(text, decoded, line, columns, dialect, errors)
            return ImportResult(cameras, errors.result(), FORMAT_KR)
        if {"id", "lat", "lon"} <= names:
            cameras = _from_csv(text, decoded, line, columns, dialect, errors)
            return ImportResult(cameras, errors.result(), FORMAT_CSV)
    raise ValueError(
        f"{filename}: not a camera file GoldenTime can read (expected a CSV with header "
        "id,name,lat,lon,purpose,…, a GeoJSON FeatureCollection of Points, or 전국CCTV표준데이터 CSV)"
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


# -- 전국CCTV표준데이터 ----------------------------------------------------------------------------------


def kr_purpose(value: str) -> Purpose:
    """The `Purpose` for a 설치목적구분 value; RowRejected when it is empty or unknown."""
    raw = text_value(value, "설치목적구분", 100)
    if not raw:
        raise RowRejected("설치목적구분 is empty")
    for part in _KR_SPLIT.split(raw):
        key = re.sub(r"\s+", "", part)
        if key.endswith("용") and key[:-1] in KR_PURPOSES:
            key = key[:-1]
        if key in KR_PURPOSES:
            return KR_PURPOSES[key]
    raise RowRejected(f"설치목적구분 {shown(raw)} is not one of {', '.join(KR_PURPOSES)}")


def _kr_count(value: str) -> int:
    text = value.strip()
    if not text:
        raise RowRejected("카메라대수 is empty")
    if not _COUNT.fullmatch(text):
        raise RowRejected(f"카메라대수 {shown(text)} is not a whole number")
    count = int(float(text))
    if count < 1:
        raise RowRejected(f"카메라대수 is {count}, must be at least 1")
    if count > MAX_CAMERAS_PER_ROW:
        raise RowRejected(f"카메라대수 {count} is more than {MAX_CAMERAS_PER_ROW} at one place")
    return count


def _kr_position(lat_text: str, lon_text: str) -> tuple[float, float]:
    lat = required_float(lat_text, "WGS84위도")
    lon = required_float(lon_text, "WGS84경도")
    if 33.0 <= lon <= 39.0 and 124.0 <= lat <= 132.0:
        raise RowRejected(f"WGS84위도 {lat!r} and WGS84경도 {lon!r} look swapped")
    check_position(lat, lon)
    if not (33.0 <= lat <= 39.0 and 124.0 <= lon <= 132.0):
        raise RowRejected(f"position {lat!r}, {lon!r} is outside South Korea (33-39°N, 124-132°E)")
    return lat, lon


def _kr_id_base(
    agency: str, road: str, lot: str, purpose_raw: str, installed: str, lat: float, lon: float
) -> str:
    key = "\x1f".join((agency, road, lot, purpose_raw, installed, f"{lat:.7f}", f"{lon:.7f}"))
    return "KR-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _from_kr(
    text: str,
    decoded: DecodedText,
    header_line: int,
    columns: list[str],
    dialect: CsvDialect,
    errors: ErrorLog,
) -> list[Camera]:
    duplicate_columns(columns)
    lat_col = next((c for c in _KR_LAT if c in columns), None)
    lon_col = next((c for c in _KR_LON if c in columns), None)
    installed_col = next((c for c in _KR_INSTALLED if c in columns), None)
    missing = [c for c in ("관리기관명", "설치목적구분", "카메라대수") if c not in columns]
    if lat_col is None:
        missing.append("WGS84위도")
    if lon_col is None:
        missing.append("WGS84경도")
    if missing or lat_col is None or lon_col is None:
        raise ValueError(f"전국CCTV표준데이터 header lacks column(s): {', '.join(missing)}")
    cameras: list[Camera] = []
    unique = _Unique()
    rows = iter_csv_rows(text, dialect, header_line, columns, decoded, errors)
    for line, row in rows:
        try:
            agency = text_value(row["관리기관명"], "관리기관명", MAX_NAME_CHARS)
            road = text_value(row.get("소재지도로명주소"), "소재지도로명주소", MAX_NAME_CHARS)
            lot = text_value(row.get("소재지지번주소"), "소재지지번주소", MAX_NAME_CHARS)
            purpose_raw = re.sub(r"\s+", "", row["설치목적구분"])
            purpose = kr_purpose(row["설치목적구분"])
            count = _kr_count(row["카메라대수"])
            lat, lon = _kr_position(row[lat_col], row[lon_col])
            installed = re.sub(r"\s+", "", row[installed_col]) if installed_col else ""
            base = _kr_id_base(agency, road, lot, purpose_raw, installed, lat, lon)
            unique.check(base, line, " (same 관리기관명, addresses, 설치목적구분, 설치연월 and position)")
        except RowRejected as exc:
            errors.add(line, exc.reason)
            continue
        place = road or lot or agency or f"{lat:.6f}, {lon:.6f}"
        for n in range(1, count + 1):
            cameras.append(Camera(id=f"{base}-{n}", name=f"{place} #{n}", lat=lat, lon=lon, purpose=purpose))
    return cameras

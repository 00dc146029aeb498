"""전국CCTV표준데이터: the national CCTV standard data as local governments publish it.

Every row of a register is a camera (or 카메라대수 cameras at one place); nothing is merged silently.

Layouts (columns compared without white space; extra columns are ignored):

* 2017-2019 editions: [번호,] 관리기관명, 소재지도로명주소, 소재지지번주소, 설치목적구분, 카메라대수,
  카메라화소수, 촬영방면정보, 보관일수, 설치년월|설치연월, 관리기관전화번호, 위도|WGS84위도, 경도|WGS84경도,
  데이터기준일자 [, 제공기관코드, 제공기관명];
* 2020- editions: 개방자치단체코드, 관리번호, 관리기관명, … , WGS84위도, WGS84경도, 데이터기준일자
  [, 데이터갱신구분, 데이터갱신시점, 최종수정시점] — most governments now list each camera on its own row.
* a city's own list, through a column mapping (``{"자치구": "관리기관명", "위도": "WGS84위도", …}``).

Identity (the camera ids stay the same when a later edition of the register is imported):

* 관리번호 with the provider (개방자치단체코드, else 관리기관명) where the row has one:
  ``KR-<12 hex of SHA-256>-<n>`` for n = 1 … 카메라대수;
* otherwise the site: provider, both addresses, 설치목적구분 and 설치연월 (and the position when the row has
  no address). Rows of the same site get an ordinal in file order (two cameras of one pole that differ only
  in 카메라화소수 are two sites' rows, both kept); a site whose position changes keeps its ids (a move).
* A row identical in every field to an earlier row is a *repeat*: counted and reported, not a camera.

Positions: an empty or non-numeric coordinate, 0,0, a placeholder (99.999999/999.999999, 9999, …), swapped
or outside South Korea (33-39°N, 124-132°E) puts the row on the *holding list* with its address (it gets
its ids and can be positioned later). Twenty or more different addresses at one point mean a stand-in
position (an area's centroid, a round point): those cameras are imported flagged *approximate*.

설치목적구분 values outside the table below are imported as ``other`` with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.domain.camera import Camera, CameraRegister
from app.domain.enums import Purpose
from app.domain.import_common import (
    MAX_NAME_CHARS,
    CsvDialect,
    DecodedText,
    ErrorLog,
    RowError,
    RowRejected,
    float_value,
    iter_csv_rows,
    normalise_column,
    shown,
    text_value,
)

MAX_CAMERAS_PER_ROW = 500
"""A 카메라대수 above this is taken for a typing error rather than a real site."""
APPROXIMATE_MIN_ADDRESSES = 20
"""This many different addresses at one point make the point a stand-in, not the cameras' position."""
KOREA_LAT = (33.0, 39.0)
KOREA_LON = (124.0, 132.0)

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

# Standard column (as written in the register) -> the field it fills. Older spellings map to the same field.
STANDARD_COLUMNS: Mapping[str, str] = {
    "개방자치단체코드": "code",
    "관리번호": "register_no",
    "관리기관명": "provider",
    "소재지도로명주소": "road",
    "소재지지번주소": "lot",
    "설치목적구분": "purpose",
    "카메라대수": "count",
    "카메라화소수": "pixels",
    "촬영방면정보": "view",
    "보관일수": "retention",
    "설치연월": "installed",
    "설치년월": "installed",
    "관리기관전화번호": "phone",
    "wgs84위도": "lat",
    "위도": "lat",
    "wgs84경도": "lon",
    "경도": "lon",
    "데이터기준일자": "data_date",
}
"""Known and ignored: 번호 (a row number), 데이터갱신구분, 데이터갱신시점, 최종수정시점, 제공기관코드, 제공기관명."""
IGNORED_COLUMNS = frozenset(
    {"번호", "데이터갱신구분", "데이터갱신시점", "최종수정시점", "제공기관코드", "제공기관명"}
)
MARKERS = frozenset({"관리기관명", "설치목적구분", "카메라대수", "관리번호", "개방자치단체코드"})
LAYOUTS = (
    "전국CCTV표준데이터 2020- (개방자치단체코드, 관리번호, 관리기관명, 소재지도로명주소, 소재지지번주소, "
    "설치목적구분, 카메라대수, …, WGS84위도, WGS84경도, 데이터기준일자)",
    "전국CCTV표준데이터 2017-2019 ([번호,] 관리기관명, …, 설치년월, …, 위도, 경도, 데이터기준일자)",
    "GoldenTime CSV (id, name, lat, lon, purpose, direction_deg, fov_deg, stream_main, stream_sub)",
    "GeoJSON FeatureCollection of Points",
)

_SPLIT = re.compile(r"[,/+·ㆍ|;]")
_WS = re.compile(r"\s+")
_COUNT = re.compile(r"\d{1,9}(?:\.0*)?")
_DIGITS = re.compile(r"\d{1,5}")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
_NINES = re.compile(r"[+-]?9{2,}(?:\.9*)?")


class Held(Exception):
    """A row whose position cannot be used: it goes to the holding list."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class HeldRow:
    """A register row kept on the holding list until its position is corrected: the cameras it stands
    for (``base_id``-1 … -``count``) with everything but a usable position."""

    line: int
    code: str
    reason: str
    base_id: str
    count: int
    name: str
    purpose: Purpose
    register: CameraRegister
    lat_text: str
    lon_text: str

    def cameras(self, lat: float, lon: float) -> list[Camera]:
        return make_cameras(self.base_id, self.count, self.name, lat, lon, self.purpose, self.register)


@dataclass(slots=True)
class RegisterParse:
    cameras: list[Camera] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)
    repeats: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    """Rows the CSV reader handed over (rows it could not read at all are only in the error log)."""
    refused_rows: int = 0
    provider_names: set[str] = field(default_factory=set)
    provider_codes: set[str] = field(default_factory=set)


def make_cameras(
    base_id: str, count: int, name: str, lat: float, lon: float, purpose: Purpose, register: CameraRegister
) -> list[Camera]:
    return [
        Camera(id=f"{base_id}-{n}", name=f"{name} #{n}", lat=lat, lon=lon, purpose=purpose, register=register)
        for n in range(1, count + 1)
    ]


def kr_purpose(value: str) -> Purpose | None:
    """The `Purpose` for a 설치목적구분 value; None when it is empty or unknown.

    Values compare without white space and without a trailing 용 (방범용 = 방범); a value listing several
    purposes (``생활방범,어린이보호``) takes the first one that maps.
    """
    for part in _SPLIT.split(value):
        key = _WS.sub("", part)
        if key.endswith("용") and key[:-1] in KR_PURPOSES:
            key = key[:-1]
        if key in KR_PURPOSES:
            return KR_PURPOSES[key]
    return None


def kr_count(value: str) -> int:
    text = value.strip()
    if not _COUNT.fullmatch(text):
        raise RowRejected(f"카메라대수 {shown(text)} is not a whole number", "count-not-number")
    count = int(float(text))
    if count < 1:
        raise RowRejected(f"카메라대수 is {count}, must be at least 1", "count-zero")
    if count > MAX_CAMERAS_PER_ROW:
        raise RowRejected(
            f"카메라대수 {count} is more than {MAX_CAMERAS_PER_ROW} at one place", "count-too-large"
        )
    return count


def kr_position(lat_text: str, lon_text: str) -> tuple[float, float]:
    """(lat, lon) of a register row, or `Held` saying why the position cannot be used."""
    if not lat_text or not lon_text:
        raise Held("the position is empty (WGS84위도/WGS84경도)", "position-missing")
    try:
        lat = float_value(lat_text, "WGS84위도")
        lon = float_value(lon_text, "WGS84경도")
    except RowRejected as exc:
        raise Held(exc.reason, "position-not-number") from None
    assert lat is not None and lon is not None
    if lat == 0.0 and lon == 0.0:
        raise Held("the position is 0, 0 (a placeholder for a missing position)", "position-zero")
    if _NINES.fullmatch(lat_text) or _NINES.fullmatch(lon_text):
        raise Held(
            f"the position {lat_text}, {lon_text} is a placeholder, not a place", "position-placeholder"
        )
    if KOREA_LAT[0] <= lon <= KOREA_LAT[1] and KOREA_LON[0] <= lat <= KOREA_LON[1]:
        raise Held(f"WGS84위도 {lat!r} and WGS84경도 {lon!r} look swapped", "position-swapped")
    if abs(lat) > 90.0 or abs(lon) > 180.0:
        raise Held(f"the position {lat_text}, {lon_text} is not a WGS84 position", "position-placeholder")
    if not (KOREA_LAT[0] <= lat <= KOREA_LAT[1] and KOREA_LON[0] <= lon <= KOREA_LON[1]):
        raise Held(
            f"the position {lat!r}, {lon!r} is outside South Korea (33-39°N, 124-132°E)",
            "position-outside-korea",
        )
    return lat, lon


def map_columns(columns: list[str], mapping: Mapping[str, str] | None) -> list[str]:
    """Rename a file's (normalised) columns by a mapping {file column: standard column}.

    Raises ValueError for a mapping to a column the register does not have.
    """
    if not mapping:
        return columns
    known = set(STANDARD_COLUMNS) | IGNORED_COLUMNS
    renames: dict[str, str] = {}
    for source, target in mapping.items():
        dest = normalise_column(target)
        if dest not in known:
            raise ValueError(
                f"column mapping {source!r} -> {target!r}: {target!r} is not a column of 전국CCTV표준데이터 "
                f"(one of {', '.join(sorted(k for k in STANDARD_COLUMNS if not k.startswith('wgs')))}, "
                "WGS84위도, WGS84경도)"
            )
        renames[normalise_column(source)] = dest
    return [renames.get(c, c) for c in columns]


def _field_columns(columns: list[str]) -> dict[str, str]:
    """field -> the file's column that fills it (the first one when a layout has both spellings)."""
    out: dict[str, str] = {}
    for col in columns:
        name = STANDARD_COLUMNS.get(col)
        if name is not None and name not in out:
            out[name] = col
    return out


def _text(row: Mapping[str, str], col: str | None, what: str) -> str:
    """A register's text field; line breaks and tabs inside it (registers have them) become spaces."""
    if col is None:
        return ""
    value = row[col]
    if not value:
        return ""
    if len(value) <= MAX_NAME_CHARS and _CONTROL_OR_BREAK.search(value) is None:
        return value  # the common case: already stripped by the CSV reader, nothing to refuse
    if "\n" in value or "\r" in value or "\t" in value:
        value = _WS.sub(" ", value).strip()
    return text_value(value, what, MAX_NAME_CHARS)


def _digest(parts: Iterable[str]) -> str:
    return "KR-" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


def parse_register(
    text: str,
    decoded: DecodedText,
    header_line: int,
    columns: list[str],
    dialect: CsvDialect,
    errors: ErrorLog,
) -> RegisterParse:
    """Read a register's rows (see the module docstring). Refused rows go to ``errors``."""
    fields = _field_columns(columns)
    missing = [name for key, name in (("lat", "WGS84위도"), ("lon", "WGS84경도")) if key not in fields]
    if "provider" not in fields and "code" not in fields:
        missing.insert(0, "관리기관명")
    if missing:
        raise ValueError(
            f"전국CCTV표준데이터 header lacks column(s): {', '.join(missing)} "
            f"(found: {', '.join(c for c in columns if c) or 'none'})"
        )
    out = RegisterParse()
    c = fields.get
    lat_col, lon_col = fields["lat"], fields["lon"]
    if "purpose" not in fields:
        out.warnings.append(
            RowError(
                header_line,
                "no 설치목적구분 column: every camera is imported as other",
                "warning",
                "purpose-none",
            )
        )
    seen_rows: dict[tuple[str, ...], int] = {}
    seen_numbers: dict[tuple[str, str], int] = {}
    site_count: dict[tuple[str, ...], int] = {}
    seen_bases: dict[str, int] = {}
    # Approximate positions: the addresses at each point, and the cameras made at it (index ranges).
    addresses_at: dict[tuple[float, float], set[str]] = {}
    made_at: dict[tuple[float, float], list[tuple[int, int, int]]] = {}
    for line, row in iter_csv_rows(text, dialect, header_line, columns, decoded, errors):
        out.rows_read += 1
        record = tuple(row.values())
        first = seen_rows.setdefault(record, line)
        if first != line:
            out.repeats.append(RowError(line, f"repeats line {first} exactly", "repeat", "repeat"))
            continue
        try:
            provider = _text(row, c("provider"), "관리기관명")
            code = _text(row, c("code"), "개방자치단체코드")
            number = _text(row, c("register_no"), "관리번호")
            road = _text(row, c("road"), "소재지도로명주소")
            lot = _text(row, c("lot"), "소재지지번주소")
            purpose_text = _text(row, c("purpose"), "설치목적구분")
            installed = _text(row, c("installed"), "설치연월")
            register = CameraRegister(
                provider=provider,
                provider_code=code,
                register_no=number,
                road_address=road,
                lot_address=lot,
                purpose_text=purpose_text,
                installed=installed,
                pixels=_text(row, c("pixels"), "카메라화소수"),
                view=_text(row, c("view"), "촬영방면정보"),
                retention_days=_retention(row, c("retention")),
                phone=_text(row, c("phone"), "관리기관전화번호"),
                data_date=_text(row, c("data_date"), "데이터기준일자"),
            )
            if not register.scope:
                raise RowRejected("관리기관명 is empty (the row has no provider)", "provider-empty")
            count_col = c("count")
            count = 1
            if count_col is not None and row[count_col]:
                count = kr_count(row[count_col])
            elif count_col is not None:
                out.warnings.append(
                    RowError(line, "카메라대수 is empty: taken as 1", "warning", "count-empty")
                )
        except RowRejected as exc:
            errors.add(line, exc.reason, exc.code or "invalid-text")
            out.refused_rows += 1
            continue
        purpose = kr_purpose(purpose_text) if purpose_text else None
        if purpose is None:
            if "purpose" in fields:
                what = (
                    f"설치목적구분 {shown(purpose_text)} is not a known value"
                    if purpose_text
                    else "설치목적구분 is empty"
                )
                out.warnings.append(
                    RowError(line, f"{what}: imported as other", "warning", "purpose-unknown")
                )
            purpose = Purpose.OTHER
        # identity
        base = ""
        if number:
            key = (register.scope, number)
            earlier = seen_numbers.setdefault(key, line)
            if earlier == line:
                base = _digest(("no", register.scope, number))
            else:
                out.warnings.append(
                    RowError(
                        line,
                        f"관리번호 {number} is also on line {earlier}: identified by its content",
                        "warning",
                        "number-repeated",
                    )
                )
        if not base:
            site: tuple[str, ...] = (
                "site",
                provider,
                code,
                road,
                lot,
                _WS.sub("", purpose_text),
                _WS.sub("", installed),
            )
            if not road and not lot:
                site += (row[lat_col], row[lon_col])
            n = site_count[site] = site_count.get(site, 0) + 1
            base = _digest(site if n == 1 else (*site, str(n)))
        if base in seen_bases:  # a digest collision: astronomically rare, but ids must be unique
            base = _digest((base, str(line)))
        seen_bases[base] = line
        if provider:
            out.provider_names.add(provider)
        if code:
            out.provider_codes.add(code)
        name = road or lot or provider
        try:
            lat, lon = kr_position(row[lat_col], row[lon_col])
        except Held as exc:
            out.held.append(
                HeldRow(
                    line,
                    exc.code,
                    exc.reason,
                    base,
                    count,
                    name,
                    purpose,
                    register,
                    row[lat_col],
                    row[lon_col],
                )
            )
            continue
        point = (round(lat, 6), round(lon, 6))
        addresses_at.setdefault(point, set()).add(_WS.sub("", road or lot))
        made_at.setdefault(point, []).append((line, len(out.cameras), count))
        out.cameras.extend(make_cameras(base, count, name, lat, lon, purpose, register))
    for point, addresses in addresses_at.items():
        if len(addresses) < APPROXIMATE_MIN_ADDRESSES:
            continue
        for line, start, count in made_at[point]:
            for i in range(start, start + count):
                out.cameras[i] = dataclasses.replace(out.cameras[i], approximate=True)
            out.warnings.append(
                RowError(
                    line,
                    f"{len(addresses)} different addresses share the position {point[0]}, {point[1]}: "
                    "imported as approximate",
                    "warning",
                    "position-approximate",
                )
            )
    out.warnings.sort(key=lambda e: e.line)
    return out


def _retention(row: Mapping[str, str], col: str | None) -> int | None:
    if col is None:
        return None
    value = row[col].strip()
    if value.endswith("일"):
        value = value[:-1].strip()
    return int(value) if _DIGITS.fullmatch(value) else None


def parse_positions(
    text: str,
    decoded: DecodedText,
    header_line: int,
    columns: list[str],
    dialect: CsvDialect,
    errors: ErrorLog,
) -> list[tuple[int, str, float, float]]:
    """Corrected positions: rows of ``id, lat, lon`` (also 위도/경도 or WGS84위도/WGS84경도; other columns,
    such as those ``cameras pending`` writes, are ignored). Each position must be in South Korea."""
    lat_col = next((c for c in ("lat", "wgs84위도", "위도") if c in columns), None)
    lon_col = next((c for c in ("lon", "wgs84경도", "경도") if c in columns), None)
    if "id" not in columns or lat_col is None or lon_col is None:
        raise ValueError(
            f"a corrected-positions file needs the columns id, lat, lon (found: {', '.join(columns) or 'none'})"
        )
    out: list[tuple[int, str, float, float]] = []
    for line, row in iter_csv_rows(text, dialect, header_line, columns, decoded, errors):
        pid = row["id"]
        try:
            lat, lon = kr_position(row[lat_col], row[lon_col])
        except Held as exc:
            errors.add(line, f"{pid}: {exc.reason}", exc.code)
            continue
        out.append((line, pid, lat, lon))
    return out

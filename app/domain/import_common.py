"""What the camera, sensor and facility importers share: decoding, CSV and GeoJSON reading with line
numbers, field conversion with precise reasons, and a bounded error list.

Nothing here raises on bad content except `ValueError` for a file that cannot be read as the expected
kind at all; a bad row becomes a `RowError` and the rest go on.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from app.domain.geo import lat_lon_problem
from app.domain.stream_url import check_stream_url

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Largest file an importer accepts (the full national CCTV file is well under this)."""
MAX_ERRORS = 1000
"""Errors listed one by one; past this a single summary error counts the rest."""
MAX_NAME_CHARS = 200
MAX_NOTES_CHARS = 2000
MAX_URL_CHARS = 2048

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""Ids end up in URLs and file names: ASCII letters, digits and ``._:-``, at most 64 characters."""
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_JSON_WS = re.compile(r"[ \t\n\r]*")
_MAX_SHOWN = 40

CsvDialect = csv.Dialect | type[csv.Dialect]


@dataclass(frozen=True, slots=True)
class RowError:
    """A row (or feature) that was not imported (or imported with a warning): its 1-based line in the
    file and why. ``kind`` is what happened to it (refused, held, repeat, warning); ``code`` names the
    kind of problem, so that a summary can group many rows with the same problem."""

    line: int
    reason: str
    kind: str = "refused"
    code: str = ""


class RowRejected(Exception):
    """Raised by the row converters; the importer turns it into a `RowError`."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(slots=True)
class ErrorLog:
    """Collects row errors, listing at most `MAX_ERRORS` of them."""

    _errors: list[RowError] = field(default_factory=list)
    _dropped: int = 0
    _first_dropped_line: int = 0
    count: int = 0
    """Every error added, listed or not."""
    unbounded: bool = False
    """Keep every error (the camera-register importer writes them all to its report)."""

    def add(self, line: int, reason: str, code: str = "") -> None:
        self.count += 1
        if self.unbounded:
            self._errors.append(RowError(line, reason, "refused", code))
        elif len(self._errors) < MAX_ERRORS:
            self._errors.append(RowError(line, reason))
        else:
            if not self._dropped:
                self._first_dropped_line = line
            self._dropped += 1

    def result(self) -> list[RowError]:
        errors = list(self._errors)
        if self._dropped:
            errors.append(
                RowError(
                    self._first_dropped_line,
                    f"{self._dropped} more rejected rows from this line on are not listed",
                )
            )
        return errors


def shown(value: object) -> str:
    """A value quoted for an error message, cut to a readable length."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN] + f"… ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


# -- decoding -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str
    lossy: bool
    """True when the bytes were not valid in any supported encoding: rows with U+FFFD are rejected."""


def check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"file is {len(data)} bytes, more than the {MAX_FILE_BYTES} an import accepts")


def decode_text(data: bytes) -> DecodedText:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or CP949 (the usual encoding of Korean public
    data); bytes valid in none of them are decoded with replacement characters and flagged lossy."""
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        try:
            return DecodedText(body.decode("utf-8"), "utf-8-sig", False)
        except UnicodeDecodeError:
            return DecodedText(body.decode("utf-8", "replace"), "utf-8-sig", True)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedText(data.decode("utf-16"), "utf-16", False)
        except UnicodeDecodeError:
            return DecodedText(data.decode("utf-16", "replace"), "utf-16", True)
    for encoding in ("utf-8", "cp949"):
        try:
            return DecodedText(data.decode(encoding), encoding, False)
        except UnicodeDecodeError:
            pass
    as_utf8 = data.decode("utf-8", "replace")
    as_cp949 = data.decode("cp949", "replace")
    if as_cp949.count("\ufffd") < as_utf8.count("\ufffd"):
        return DecodedText(as_cp949, "cp949", True)
    return DecodedText(as_utf8, "utf-8", True)


def lossy_reason(decoded: DecodedText) -> str:
    return f"text is not valid {decoded.encoding} (the file mixes encodings or holds binary data)"


# -- CSV ------------------------------------------------------------------------------------------------


def normalise_column(name: str) -> str:
    """Header names compare without surrounding or inner white space, BOMs, or ASCII case."""
    return re.sub(r"\s+", "", name.replace("\ufeff", "")).lower()


def _first_line(text: str) -> str:
    for line in io.StringIO(text, newline=""):
        if line.strip():
            return line
    return ""


def read_csv_header(text: str) -> tuple[int, list[str], CsvDialect] | None:
    """The first non-blank record of ``text`` as (line, normalised names, dialect), or None."""
    first = _first_line(text)
    dialect: type[csv.Dialect] = csv.excel_tab if "\t" in first and "," not in first else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return None
        except csv.Error:
            return None
        if any(f.strip() for f in record):
            return start, [normalise_column(f) for f in record], dialect


def iter_csv_rows(
    text: str,
    dialect: CsvDialect,
    header_line: int,
    columns: list[str],
    decoded: DecodedText,
    errors: ErrorLog,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Data rows after the header as (first line of the record, {column: stripped field}).

    Blank rows are skipped; rows with the wrong number of fields, CSV syntax errors and undecodable
    text are reported to ``errors`` and skipped.
    """
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    n = len(columns)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.add(start, f"unreadable CSV: {exc}", "csv-syntax")
            continue
        if start <= header_line:
            continue
        if not any(f.strip() for f in record):
            continue
        if decoded.lossy and any("\ufffd" in f for f in record):
            errors.add(start, lossy_reason(decoded), "encoding")
            continue
        if len(record) > n and not any(f.strip() for f in record[n:]):
            record = record[:n]
        if len(record) != n:
            reason = f"has {len(record)} fields, the header has {n}"
            end = reader.line_num
            if end > start:
                reason += f" (a quote left open may have joined lines {start}-{end})"
            errors.add(start, reason, "field-count")
            continue
        yield start, {col: value.strip() for col, value in zip(columns, record, strict=True)}


# -- GeoJSON --------------------------------------------------------------------------------------------


def looks_like_json(text: str) -> bool:
    return text.lstrip(" \t\r\n\ufeff").startswith("{")


def _feature_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each element of the top-level ``features`` array (last key wins).

    Only called on text that `json.loads` accepted.
    """
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        m = _JSON_WS.match(text, i)
        return m.end() if m else i

    spans: list[tuple[int, int]] = []
    i = skip(0)
    if text[i] != "{":
        return spans
    i = skip(i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = skip(skip(i) + 1)  # past ':'
        if key == "features" and text[i] == "[":
            spans = []
            i = skip(i + 1)
            while text[i] != "]":
                _, end = decoder.raw_decode(text, i)
                spans.append((i, end))
                i = skip(end)
                if text[i] == ",":
                    i = skip(i + 1)
            i += 1
        else:
            _, i = decoder.raw_decode(text, i)
        i = skip(i)
        if i < len(text) and text[i] == ",":
            i = skip(i + 1)
    return spans


def read_geojson_features(
    text: str, decoded: DecodedText, errors: ErrorLog
) -> Iterator[tuple[int, Mapping[str, object]]]:
    """Features of a GeoJSON FeatureCollection (or a single Feature) as (line, feature object).

    Invalid JSON is one error (and no features); a top level that is not a FeatureCollection or a
    Feature raises ValueError; an element that is not a Feature object is reported and skipped.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return
    except RecursionError:
        errors.add(1, "invalid JSON: nested too deeply")
        return
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        errors.add(1, f"invalid JSON: {exc}")
        return
    if not isinstance(doc, dict):
        raise ValueError("JSON file is not a GeoJSON FeatureCollection (top level is not an object)")
    kind = doc.get("type")
    if kind == "Feature":
        yield 1, doc
        return
    if kind != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValueError(
            f"JSON file is not a GeoJSON FeatureCollection (type {shown(kind)}, no 'features' list)"
        )
    features: list[object] = doc["features"]
    newlines = [m.start() for m in re.finditer("\n", text)]
    try:
        spans = _feature_spans(text)
    except (ValueError, IndexError, RecursionError):
        spans = []
    if len(spans) != len(features):
        spans = [(0, 0)] * len(features)
    for feature, (start, end) in zip(features, spans, strict=True):
        line = bisect.bisect_left(newlines, start) + 1
        if decoded.lossy and "\ufffd" in text[start:end]:
            errors.add(line, lossy_reason(decoded))
            continue
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.add(line, "element of 'features' is not a GeoJSON Feature object")
            continue
        yield line, feature


def feature_point(feature: Mapping[str, object]) -> tuple[float, float]:
    """(lat, lon) of a Point feature (GeoJSON order is [lon, lat]); RowRejected otherwise."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise RowRejected("feature has no geometry")
    if geometry.get("type") != "Point":
        raise RowRejected(f"geometry type {shown(geometry.get('type'))} is not Point")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not 2 <= len(coords) <= 3:
        raise RowRejected("Point coordinates must be [lon, lat] or [lon, lat, altitude]")
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords):
        raise RowRejected(f"Point coordinates must be numbers, got {shown(coords)}")
    lon, lat = float(coords[0]), float(coords[1])
    check_position(lat, lon)
    return lat, lon


def feature_properties(feature: Mapping[str, object]) -> dict[str, object]:
    """The feature's properties with normalised names; its top-level ``id`` fills in a missing one."""
    raw = feature.get("properties")
    if raw is not None and not isinstance(raw, dict):
        raise RowRejected("feature properties must be an object")
    props: dict[str, object] = {normalise_column(str(k)): v for k, v in (raw or {}).items()}
    if props.get("id") in (None, "") and "id" in feature:
        props["id"] = feature["id"]
    return props


# -- field conversion -----------------------------------------------------------------------------------


def text_value(value: object, what: str, max_chars: int) -> str:
    """A stripped single-line text ('' when absent); numbers are accepted as their text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowRejected(f"{what} must be text, got {shown(value)}")
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) > max_chars:
        raise RowRejected(f"{what} is {len(text)} characters long, more than {max_chars}")
    if _CONTROL.search(text) or "\n" in text:
        raise RowRejected(f"{what} contains control characters or line breaks")
    return text


def id_value(value: object, what: str = "id") -> str:
    text = text_value(value, what, 10_000)
    if not text:
        raise RowRejected(f"{what} is empty")
    if not ID_PATTERN.fullmatch(text):
        raise RowRejected(
            f"{what} {shown(text)} is not 1-64 ASCII letters, digits or '._:-' starting with a letter "
            "or digit"
        )
    return text


def float_value(value: object, what: str) -> float | None:
    """A finite number, or None when empty or absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowRejected(f"{what} must be a number, got {shown(value)}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) > 64 or not _NUMBER.fullmatch(text):
            raise RowRejected(f"{what} {shown(text)} is not a number")
        number = float(text)
    else:
        raise RowRejected(f"{what} must be a number, got {shown(value)}")
    if not math.isfinite(number):
        raise RowRejected(f"{what} {shown(value)} is not a finite number")
    return number


def required_float(value: object, what: str) -> float:
    number = float_value(value, what)
    if number is None:
        raise RowRejected(f"{what} is empty")
    return number


def check_position(lat: float, lon: float) -> None:
    problem = lat_lon_problem(lat, lon)
    if problem is not None:
        raise RowRejected(problem)
    if lat == 0.0 and lon == 0.0:
        raise RowRejected("coordinates are 0, 0 (a placeholder for a missing position)")


def position_value(lat_value: object, lon_value: object) -> tuple[float, float]:
    lat = required_float(lat_value, "lat")
    lon = required_float(lon_value, "lon")
    check_position(lat, lon)
    return lat, lon


def url_value(value: object, what: str) -> str:
    """A camera stream URL: rtsp, rtsps, http or https. Errors never repeat the URL (it carries the
    camera's password and an internal address)."""
    text = text_value(value, what, MAX_URL_CHARS)
    if text and not _URL.fullmatch(text):
        raise RowRejected(f"{what} is not a URL of the form scheme://…")
    why = check_stream_url(text)
    if why:
        raise RowRejected(f"{what}: {why}")
    return text


def unknown_columns(columns: list[str], known: set[str], line: int, errors: ErrorLog) -> None:
    extra = [c for c in columns if c and c not in known]
    if extra:
        errors.add(line, f"unknown column(s) ignored: {', '.join(shown(c) for c in extra)}")


def duplicate_columns(columns: list[str]) -> None:
    seen: set[str] = set()
    for col in columns:
        if col and col in seen:
            raise ValueError(f"column {col!r} appears twice in the header")
        seen.add(col)

"""Real public camera registers (tests/data/registers, see SOURCES.md): every row is a camera.

The expected figures are computed here from each file with the csv module alone, independently of the
importer: rows, exact repeats, rows whose position cannot be used, cameras (the sum of 카메라대수), points
shared by twenty or more addresses.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.domain.camera_import import parse_cameras
from app.domain.enums import Purpose

REGISTERS = Path(__file__).resolve().parent.parent / "data" / "registers"
MAPO_COLUMNS = {
    "man": "관리기관명",
    "add": "소재지도로명주소",
    "rd": "소재지지번주소",
    "object": "설치목적구분",
    "num": "카메라대수",
    "fixel": "카메라화소수",
    "see": "촬영방면정보",
    "store": "보관일수",
    "install_day": "설치연월",
    "phone": "관리기관전화번호",
    "lat": "위도",
    "lng": "경도",
    "update": "데이터기준일자",
}


@dataclass
class Expected:
    rows: int
    repeats: int
    held: int
    cameras: int
    approximate: int
    has_numbers: bool


def expected(name: str, columns: dict[str, str] | None = None) -> Expected:
    raw = (REGISTERS / name).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp949")
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    header = [(columns or {}).get(h.strip(), h.strip()) for h in records[0]]
    col = {h: i for i, h in enumerate(header)}
    lat_i = col.get("WGS84위도", col.get("위도"))
    lon_i = col.get("WGS84경도", col.get("경도"))
    assert lat_i is not None and lon_i is not None
    seen: set[tuple[str, ...]] = set()
    rows = repeats = held = cameras = 0
    at_point: dict[tuple[float, float], set[str]] = defaultdict(set)
    per_point: dict[tuple[float, float], int] = defaultdict(int)
    for rec in records[1:]:
        rows += 1
        key = tuple(f.strip() for f in rec)
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        lat_t, lon_t = rec[lat_i].strip(), rec[lon_i].strip()
        try:
            lat, lon = float(lat_t), float(lon_t)
        except ValueError:
            held += 1
            continue
        if re.fullmatch(r"9{2,}(\.9*)?", lat_t) or not (33 <= lat <= 39 and 124 <= lon <= 132):
            held += 1
            continue
        n = int(float(rec[col["카메라대수"]]))
        cameras += n
        point = (round(lat, 6), round(lon, 6))
        road, lot = rec[col["소재지도로명주소"]].strip(), rec[col["소재지지번주소"]].strip()
        at_point[point].add(re.sub(r"\s+", "", road or lot))
        per_point[point] += n
    approximate = sum(per_point[p] for p, a in at_point.items() if len(a) >= 20)
    return Expected(rows, repeats, held, cameras, approximate, "관리번호" in col)


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("daejeon_2026_cp949.csv", None),  # one row per camera, 관리번호, a stack of 990 rows at 36.1, 127.1
        ("gyeongsan_2024_cp949.csv", None),  # one row per camera, 관리번호, area centroids
        (
            "busan_2024_utf8.csv",
            None,
        ),  # no 관리번호, two cameras of a pole differing only in 화소수, 0,0, the sea
        ("gangnam_2019_cp949.csv", None),  # 2019 layout (설치년월, 위도/경도), 카메라대수 up to 7, one repeat
        ("mapo_2017_placeholders_cp949.csv", MAPO_COLUMNS),  # 99.999999/999.999999 throughout, own columns
    ],
)
def test_every_row_of_a_real_register_is_accounted_for(name: str, columns: dict[str, str] | None) -> None:
    want = expected(name, columns)
    result = parse_cameras((REGISTERS / name).read_bytes(), name, columns)
    assert result.format == "kr-cctv-standard"
    assert result.rows_read == want.rows
    assert len(result.repeats) == want.repeats
    assert len(result.held) == want.held
    assert result.refused == 0 and result.errors == []
    assert len(result.cameras) == want.cameras
    assert len({c.id for c in result.cameras}) == want.cameras  # every camera its own id
    assert sum(c.approximate for c in result.cameras) == want.approximate
    # Every row is imported, held or a repeat: nothing else happens to it.
    held_cameras = sum(h.count for h in result.held)
    assert want.rows == len(result.repeats) + len(result.held) + len(
        {c.id.rsplit("-", 1)[0] for c in result.cameras}
    )
    assert held_cameras >= len(result.held)
    if want.has_numbers:
        assert all(c.register is not None and c.register.register_no for c in result.cameras)


def test_figures_of_the_real_registers() -> None:
    """The figures that the issue's cities showed (so that a regression in `expected` cannot hide one)."""
    daejeon = parse_cameras((REGISTERS / "daejeon_2026_cp949.csv").read_bytes(), "d.csv")
    stack = [c for c in daejeon.cameras if (c.lat, c.lon) == (36.1, 127.1)]
    assert stack and all(c.approximate for c in stack)
    assert {c.register.provider for c in stack if c.register} == {"대전광역시 대덕구청"}
    busan = parse_cameras((REGISTERS / "busan_2024_utf8.csv").read_bytes(), "b.csv")
    assert sorted(h.code for h in busan.held) == ["position-outside-korea", "position-zero"]
    pole = [
        c
        for c in busan.cameras
        if c.register and c.register.lot_address == "부산광역시 연제구 연산동 산90-19"
    ]
    assert {c.register.pixels for c in pole if c.register} == {"200", "500"}  # both cameras of each pole
    assert len(pole) == sum(
        1
        for line in (REGISTERS / "busan_2024_utf8.csv").read_text().splitlines()
        if "연산동 산90-19," in line
    )
    mapo = parse_cameras((REGISTERS / "mapo_2017_placeholders_cp949.csv").read_bytes(), "m.csv", MAPO_COLUMNS)
    assert mapo.cameras == [] and {h.code for h in mapo.held} == {"position-placeholder"}
    assert all(h.register.road_address or h.register.lot_address for h in mapo.held)


def test_register_fields_are_kept() -> None:
    result = parse_cameras((REGISTERS / "daejeon_2026_cp949.csv").read_bytes(), "d.csv")
    raw = (REGISTERS / "daejeon_2026_cp949.csv").read_bytes().decode("cp949")
    first = next(csv.DictReader(io.StringIO(raw, newline="")))
    cam = result.cameras[0]
    reg = cam.register
    assert reg is not None
    assert reg.provider == first["관리기관명"] and reg.provider_code == first["개방자치단체코드"]
    assert reg.register_no == first["관리번호"]
    assert reg.road_address == first["소재지도로명주소"] and reg.lot_address == first["소재지지번주소"]
    assert reg.installed == first["설치연월"] and reg.pixels == first["카메라화소수"]
    assert reg.view == first["촬영방면정보"] and reg.phone == first["관리기관전화번호"]
    assert reg.retention_days == (int(first["보관일수"]) if first["보관일수"] else None)
    assert reg.data_date == first["데이터기준일자"]
    assert reg.scope == first["개방자치단체코드"]


def test_ids_follow_a_camera_across_editions() -> None:
    """관리번호 identifies a camera whatever else changes; without it, the site does (a move keeps ids)."""
    raw = (REGISTERS / "gyeongsan_2024_cp949.csv").read_bytes().decode("cp949")
    header, first, *rest = raw.splitlines()
    moved = first.split(",")
    moved[3] = "경상북도 경산시 새 주소 1"  # renamed
    moved[12], moved[13] = "35.8001", "128.7001"  # moved
    again = parse_cameras("\n".join([header, ",".join(moved), *rest]).encode("cp949"), "g.csv")
    before = parse_cameras(raw.encode("cp949"), "g.csv")
    assert [c.id for c in again.cameras] == [c.id for c in before.cameras]
    assert (again.cameras[0].lat, again.cameras[0].lon) == (35.8001, 128.7001)
    # Without 관리번호: the same site keeps its ids when it moves.
    text = (REGISTERS / "busan_2024_utf8.csv").read_text(encoding="utf-8")
    h, row, *more = text.splitlines()
    cells = row.split(",")
    cells[-3] = str(float(cells[-3]) + 0.001)
    one = parse_cameras(text.encode(), "b.csv")
    two = parse_cameras("\n".join([h, ",".join(cells), *more]).encode(), "b.csv")
    assert [c.id for c in one.cameras] == [c.id for c in two.cameras]


def test_unknown_layout_names_the_columns_found_and_the_layouts_known() -> None:
    data = (REGISTERS / "mapo_2017_placeholders_cp949.csv").read_bytes()
    with pytest.raises(
        ValueError, match=r"Columns found: man, add, rd, object.*Layouts known: 전국CCTV표준데이터"
    ):
        parse_cameras(data, "mapo.csv")
    with pytest.raises(ValueError, match="'별명' is not a column of 전국CCTV표준데이터"):
        parse_cameras(data, "mapo.csv", {"man": "별명"})


def test_a_city_list_through_a_column_mapping() -> None:
    text = "자치구,주소,용도,위도,경도,수량\n강남구,서울 강남구 역삼동 1,방범,37.5,127.03,2\n강남구,서울 강남구 역삼동 2,주차단속,37.51,127.04,1\n"
    mapping = {
        "자치구": "관리기관명",
        "주소": "소재지지번주소",
        "용도": "설치목적구분",
        "위도": "위도",
        "경도": "경도",
        "수량": "카메라대수",
    }
    result = parse_cameras(text.encode(), "city.csv", mapping)
    assert [c.name for c in result.cameras] == [
        "서울 강남구 역삼동 1 #1",
        "서울 강남구 역삼동 1 #2",
        "서울 강남구 역삼동 2 #1",
    ]
    assert [c.purpose for c in result.cameras] == [Purpose.CRIME, Purpose.CRIME, Purpose.OTHER]
    assert [w.code for w in result.warnings] == ["purpose-unknown"]

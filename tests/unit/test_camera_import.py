"""Camera import: GoldenTime CSV, GeoJSON, 전국CCTV표준데이터 (UTF-8, BOM, CP949); bad rows; hostile input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.domain.camera import Camera
from app.domain.camera_import import (
    KR_PURPOSES,
    MAX_CAMERAS_PER_ROW,
    ImportResult,
    RowError,
    parse_cameras,
)
from app.domain.enums import Purpose
from app.domain.import_common import MAX_ERRORS

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError:  # hypothesis is optional: the seeded fuzz below covers the same ground
    given = None

DATA = Path(__file__).resolve().parent.parent / "data"
CSV_HEADER = "id,name,lat,lon,purpose,direction_deg,fov_deg,stream_main,stream_sub\n"
KR_HEADER = (
    "관리기관명,소재지도로명주소,소재지지번주소,설치목적구분,카메라대수,카메라화소수,촬영방면정보,보관일수,"
    "설치연월,관리기관전화번호,WGS84위도,WGS84경도,데이터기준일자\n"
)


def kr_row(
    purpose: str = "생활방범",
    count: str = "1",
    lat: str = "35.18",
    lon: str = "128.08",
    road: str = "경상남도 진주시 동진로 155",
    installed: str = "2019-05",
) -> str:
    return f"진주시청,{road},,{purpose},{count},200,,30,{installed},055-749-2114,{lat},{lon},2024-06-30\n"


def reasons(result: ImportResult) -> dict[int, str]:
    return {e.line: e.reason for e in result.errors}


# -- the three formats --------------------------------------------------------------------------------


def test_goldentime_csv_file() -> None:
    result = parse_cameras((DATA / "cameras_goldentime.csv").read_bytes(), "cameras_goldentime.csv")
    assert result.errors == [] and result.format == "goldentime-csv"
    assert [c.id for c in result.cameras] == ["JJ-0001", "JJ-0002", "JJ-0003", "JJ-0004", "JJ-0005"]
    first, second, *_, last = result.cameras
    assert first == Camera(
        "JJ-0001",
        "진주시청 앞 교차로",
        35.1803,
        128.1076,
        Purpose.CRIME,
        90.0,
        60.0,
        "rtsp://10.1.0.11/main",
        "rtsp://10.1.0.11/sub",
    )
    assert (second.direction_deg, second.fov_deg, second.stream_sub) == (None, None, "")
    assert last.name == "진주대로, 상평교" and last.purpose is Purpose.TRAFFIC and last.direction_deg == 270.5


def test_geojson_file_matches_csv() -> None:
    result = parse_cameras((DATA / "cameras.geojson").read_bytes(), "cameras.geojson")
    assert result.errors == [] and result.format == "geojson"
    csv_cams = {
        c.id: c for c in parse_cameras((DATA / "cameras_goldentime.csv").read_bytes(), "c.csv").cameras
    }
    assert result.cameras[0] == csv_cams["JJ-0001"]
    assert result.cameras[1].id == "JJ-0002"  # from the feature's own id
    assert result.cameras[2] == csv_cams["JJ-0003"]  # altitude ignored, "180" read as a number


def test_kr_standard_file() -> None:
    result = parse_cameras((DATA / "kr_cctv_standard.csv").read_bytes(), "kr_cctv_standard.csv")
    assert result.errors == [] and result.format == "kr-cctv-standard"
    assert len(result.cameras) == 14  # 3 + 2 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1
    first3 = result.cameras[:3]
    assert [c.name for c in first3] == [f"경상남도 진주시 동진로 155 #{n}" for n in (1, 2, 3)]
    assert len({c.id for c in first3}) == 3
    assert all(c.id.startswith("KR-") and c.id.endswith(f"-{n}") for n, c in enumerate(first3, 1))
    assert {(c.lat, c.lon) for c in first3} == {(35.1803, 128.1076)}
    by_name = {c.name: c for c in result.cameras}
    assert (
        by_name["경상남도 진주시 칠암동 490 #1"].purpose is Purpose.TRAFFIC
    )  # lot address when no road address
    purposes = [c.purpose for c in result.cameras]
    assert purposes.count(Purpose.CHILD_PROTECTION) == 2
    assert by_name["경상남도 진주시 문산읍 월아산로 1001 #1"].purpose is Purpose.CRIME  # 차량방범
    assert by_name["경상남도 진주시 남강로 626 #1"].purpose is Purpose.DISASTER
    assert all(c.direction_deg is None and c.stream_main == "" for c in result.cameras)


def test_kr_encodings_give_identical_cameras() -> None:
    utf8 = (DATA / "kr_cctv_standard.csv").read_bytes()
    cp949_file = (DATA / "kr_cctv_standard_cp949.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cp949_file.decode("utf-8")
    expected = parse_cameras(utf8, "a.csv").cameras
    assert parse_cameras(cp949_file, "b.csv").cameras == expected
    assert parse_cameras(b"\xef\xbb\xbf" + utf8, "c.csv").cameras == expected
    assert parse_cameras(utf8.decode().encode("euc-kr"), "d.csv").cameras == expected
    assert parse_cameras(utf8.decode().replace("\n", "\r\n").encode("utf-16"), "e.csv").cameras == expected


def test_kr_ids_are_stable_across_imports_and_edits() -> None:
    data = (DATA / "kr_cctv_standard.csv").read_bytes()
    first = [c.id for c in parse_cameras(data, "x.csv").cameras]
    assert first == [c.id for c in parse_cameras(data, "x.csv").cameras]
    # A later edition: rows reordered, one added, other columns changed: the same places keep their ids.
    header, *rows = data.decode().splitlines()
    rows = [r.replace("2024-06-30", "2025-01-31") for r in reversed(rows)]
    rows.insert(3, kr_row(lat="35.2", lon="128.1").strip())
    again = parse_cameras(("\n".join([header, *rows]) + "\n").encode("cp949"), "y.csv")
    assert again.errors == []
    assert set(first) < {c.id for c in again.cameras}
    assert len(again.cameras) == len(first) + 1


@pytest.mark.parametrize(
    ("value", "purpose"),
    [
        ("생활방범", Purpose.CRIME),
        ("다목적", Purpose.CRIME),
        ("차량방범", Purpose.CRIME),
        ("방범용", Purpose.CRIME),
        ("교통단속", Purpose.TRAFFIC),
        ("교통정보수집", Purpose.TRAFFIC),
        ("재난재해", Purpose.DISASTER),
        ("어린이보호", Purpose.CHILD_PROTECTION),
        (" 어린이 보호 ", Purpose.CHILD_PROTECTION),
        ("시설물관리", Purpose.OTHER),
        ("쓰레기단속", Purpose.OTHER),
        ("기타", Purpose.OTHER),
        ('"생활방범,어린이보호"', Purpose.CRIME),
        ("어린이보호/생활방범", Purpose.CHILD_PROTECTION),
    ],
)
def test_kr_purpose_mapping(value: str, purpose: Purpose) -> None:
    result = parse_cameras((KR_HEADER + kr_row(purpose=value)).encode(), "kr.csv")
    assert result.errors == []
    assert [c.purpose for c in result.cameras] == [purpose]


def test_kr_purpose_table_covers_the_published_values() -> None:
    published = {
        "생활방범",
        "다목적",
        "어린이보호",
        "교통단속",
        "교통정보수집",
        "시설물관리",
        "재난재해",
        "쓰레기단속",
        "차량방범",
        "기타",
    }
    assert published <= set(KR_PURPOSES)


def test_kr_same_pole_other_year_is_not_a_duplicate() -> None:
    text = KR_HEADER + kr_row(count="2") + kr_row(count="1", installed="2023-08")
    result = parse_cameras(text.encode(), "kr.csv")
    assert result.errors == []
    assert len({c.id for c in result.cameras}) == 3


def test_older_kr_layout_with_plain_lat_lon_columns() -> None:
    text = (
        "번호,관리기관명,소재지도로명주소,소재지지번주소,설치목적구분,카메라대수,카메라화소수,촬영방면정보,"
        "보관일수,설치년월,관리기관전화번호,위도,경도,데이터기준일자,제공기관코드,제공기관명\n"
        "1,진주시청,경상남도 진주시 동진로 155,,생활방범,2,200,,30,2019-05,055,35.18,128.08,2024-06-30,5310000,경상남도 진주시\n"
    )
    result = parse_cameras(text.encode("cp949"), "old.csv")
    assert result.errors == [] and len(result.cameras) == 2


# -- bad rows -------------------------------------------------------------------------------------------


def test_goldentime_csv_bad_rows_reported_with_line_numbers() -> None:
    text = (
        CSV_HEADER
        + "\n".join(
            [
                "A1,ok,35.18,128.08,crime,,,,",  # 2 ok
                "A2,no lat,,128.08,crime,,,,",  # 3
                "A3,lat out,95,128.08,crime,,,,",  # 4
                "A4,bad purpose,35.18,128.08,cctv,,,,",  # 5
                "A5,bad dir,35.18,128.08,crime,400,60,,",  # 6
                "A6,bad fov,35.18,128.08,crime,90,0,,",  # 7
                "A7,bad url,35.18,128.08,crime,,,not a url,",  # 8
                "A1,dup,35.18,128.08,crime,,,,",  # 9
                "bad id,x,35.18,128.08,crime,,,,",  # 10
                "A8,nan,nan,128.08,crime,,,,",  # 11
                "A9,few fields,35.18,128.08",  # 12
                "",  # 13 blank: skipped silently
                'A10,"two',  # 14-15: a quoted line break (names must be one line)
                'lines",35.18,128.08,other,,,,',
                "A11,zero,0,0,crime,,,,",  # 16
                'A12,comma decimal,"35,18",128.08,crime,,,,',  # 17
                "A13,ok too,35.181,128.081,Child_Protection,359.5,90,,",  # 18 ok
                ",no id,35.18,128.08,crime,,,,",  # 19
            ]
        )
        + "\n"
    )
    result = parse_cameras(text.encode(), "cams.csv")
    assert [c.id for c in result.cameras] == ["A1", "A13"]
    got = reasons(result)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 19]
    assert got[14] == "name contains control characters or line breaks"
    assert got[3] == "lat is empty"
    assert "latitude 95.0 is outside [-90, 90]" in got[4]
    assert "purpose 'cctv' is not one of crime, traffic, disaster, child-protection, other" == got[5]
    assert "direction_deg 400.0 is outside [0, 360]" in got[6]
    assert "fov_deg 0.0 is outside (0, 360]" in got[7]
    assert got[8] == "stream_main is not a URL of the form scheme://…"  # never repeats the URL (credentials)
    assert got[9] == "duplicate id 'A1' (first on line 2)"
    assert "id 'bad id' is not" in got[10]
    assert "'nan' is not a number" in got[11]
    assert got[12] == "has 4 fields, the header has 9"
    assert "0, 0" in got[16]
    assert "'35,18' is not a number" in got[17]
    assert got[19] == "id is empty"


def test_kr_bad_rows_reported_with_line_numbers() -> None:
    text = KR_HEADER + "".join(
        [
            kr_row(),  # 2 ok
            kr_row(lat="", lon=""),  # 3
            kr_row(lat="128.08", lon="35.18", road="뒤바뀜"),  # 4
            kr_row(lat="37.77", lon="-122.42", road="샌프란시스코"),  # 5
            kr_row(purpose="무인단속", road="x"),  # 6
            kr_row(count="두대", road="y"),  # 7
            kr_row(count="0", road="z"),  # 8
            kr_row(count=str(MAX_CAMERAS_PER_ROW + 1), road="w"),  # 9
            kr_row(),  # 10 duplicate of line 2
            kr_row(purpose="", road="v"),  # 11
            kr_row(count="2.0", road="ok2"),  # 12 ok
        ]
    )
    result = parse_cameras(text.encode("cp949"), "kr.csv")
    # Unknown or empty purposes are imported as other, with a warning.
    assert [c.name for c in result.cameras] == [
        "경상남도 진주시 동진로 155 #1",
        "x #1",
        "v #1",
        "ok2 #1",
        "ok2 #2",
    ]
    assert [c.purpose for c in result.cameras][1:3] == [Purpose.OTHER, Purpose.OTHER]
    warned = {w.line: w.reason for w in result.warnings}
    assert warned == {
        6: "설치목적구분 '무인단속' is not a known value: imported as other",
        11: "설치목적구분 is empty: imported as other",
    }
    # Unusable positions are held with their address, not refused.
    held = {h.line: h for h in result.held}
    assert sorted(held) == [3, 4, 5]
    assert held[3].code == "position-missing"
    assert "look swapped" in held[4].reason and held[4].name == "뒤바뀜"
    assert "outside South Korea" in held[5].reason
    # The row identical to line 2 is a repeat, counted.
    assert [(r.line, r.reason) for r in result.repeats] == [(10, "repeats line 2 exactly")]
    got = reasons(result)
    assert sorted(got) == [7, 8, 9] and result.refused == 3 and result.rows_read == 11
    assert got[7] == "카메라대수 '두대' is not a whole number"
    assert got[8] == "카메라대수 is 0, must be at least 1"
    assert f"more than {MAX_CAMERAS_PER_ROW}" in got[9]
    assert [p.line for p in result.problems()] == [3, 4, 5, 6, 7, 8, 9, 10, 11]


def test_geojson_bad_features_reported_with_their_lines() -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.08, 35.18]},
            "properties": {"id": "G1", "purpose": "crime"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[128.08, 35.18], [128.09, 35.19]]},
            "properties": {"id": "G2", "purpose": "crime"},
        },
        {"type": "Feature", "geometry": None, "properties": {"id": "G3", "purpose": "crime"}},
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": ["128.08", "35.18"]},
            "properties": {"id": "G4", "purpose": "crime"},
        },
        "not a feature",
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [35.18, 128.08]},
            "properties": {"id": "G5", "purpose": "crime"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.08, 35.18]},
            "properties": {"id": "G6", "purpose": "crime", "fov_deg": True},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.08, 35.18]},
            "properties": {"id": "G1", "purpose": "traffic"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.08, 35.18]},
            "properties": None,
            "id": 7,
        },
    ]
    # One feature per line, after two lines of preamble.
    text = (
        '{"type": "FeatureCollection",\n "features": [\n'
        + ",\n".join(json.dumps(f) for f in features)
        + "\n]}\n"
    )
    result = parse_cameras(text.encode(), "cams.geojson")
    assert [c.id for c in result.cameras] == ["G1"]
    got = reasons(result)
    assert sorted(got) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert got[4] == "geometry type 'LineString' is not Point"
    assert got[5] == "feature has no geometry"
    assert "must be numbers" in got[6]
    assert got[7] == "element of 'features' is not a GeoJSON Feature object"
    assert "longitude" not in got[8] and "latitude 128.08" in got[8]
    assert "fov_deg must be a number" in got[9]
    assert got[10] == "duplicate id 'G1' (first on line 3)"
    assert "purpose is empty" in got[11]  # id 7 from the feature, but no purpose


def test_invalid_json_is_one_error_with_its_line() -> None:
    text = '{"type": "FeatureCollection",\n "features": [\n {"type": "Feature",,}\n]}'
    result = parse_cameras(text.encode(), "broken.geojson")
    assert result.cameras == []
    assert len(result.errors) == 1 and result.errors[0].line == 3
    assert result.errors[0].reason.startswith("invalid JSON")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02\xff\xfe garbage \x89PNG",
        b"hello,world\n1,2\n",
        b"[1, 2, 3]",
        b'{"type": "Topology"}',
        b'{"type": "FeatureCollection", "features": 3}',
        b"name,lat,lon\nx,1,2\n",
        b"id,lat,lon,name\nA,35,128,x\n",  # recognised but lacks purpose
        b"id,id,lat,lon,purpose\n",
        "관리기관명,설치목적구분,카메라대수,위도\n".encode(),  # lacks longitude
    ],
)
def test_unrecognisable_files_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_cameras(data, "upload.bin")


def test_unknown_columns_are_reported_not_fatal() -> None:
    result = parse_cameras(b"id,lat,lon,purpose,colour\nA,35.18,128.08,crime,red\n", "c.csv")
    assert [c.id for c in result.cameras] == ["A"]
    assert result.errors == [RowError(1, "unknown column(s) ignored: 'colour'")]
    assert result.cameras[0].name == "A"  # no name column: the id


def test_tab_separated_and_blank_preamble() -> None:
    text = "\n\nid\tname\tlat\tlon\tpurpose\nT1\t탭\t35.18\t128.08\ttraffic\nT2\tx\t35.18\tzz\ttraffic\n"
    result = parse_cameras(text.encode(), "cams.tsv")
    assert [c.id for c in result.cameras] == ["T1"]
    assert reasons(result) == {5: "lon 'zz' is not a number"}


# -- hostile input --------------------------------------------------------------------------------------


def test_huge_field_nul_bytes_and_bad_bytes_become_row_errors() -> None:
    data = (
        CSV_HEADER.encode()
        + b"H1,ok,35.18,128.08,crime,,,,\n"
        + b"H2,"
        + b"x" * 300_000
        + b",35.18,128.08,crime,,,,\n"
        + b"H3,a\x00b,35.18,128.08,crime,,,,\n"
        + b"H4,\xff\xfe\xfa,35.18,128.08,crime,,,,\n"
        + b"H5,"
        + b"y" * 5000
        + b",35.18,128.08,crime,,,,\n"
        + b"H6,ok,35.18,128.08,crime,,,,\n"
    )
    result = parse_cameras(data, "hostile.csv")
    assert [c.id for c in result.cameras] == ["H1", "H6"]
    got = reasons(result)
    assert sorted(got) == [3, 4, 5, 6]
    assert "field larger than field limit" in got[3]
    assert "control characters" in got[4]
    assert "not valid" in got[5]
    assert "more than 200" in got[6]


def test_too_many_errors_are_summarised() -> None:
    text = CSV_HEADER + "B,x,999,0,crime,,,,\n" * (MAX_ERRORS + 250)
    result = parse_cameras(text.encode(), "bad.csv")
    assert len(result.errors) == MAX_ERRORS + 1
    assert result.errors[-1] == RowError(
        MAX_ERRORS + 2, "250 more rejected rows from this line on are not listed"
    )


def test_deeply_nested_and_huge_number_json() -> None:
    deep = '{"type": "FeatureCollection", "features": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    result = parse_cameras(deep.encode(), "deep.geojson")
    assert result.cameras == [] and len(result.errors) == 1
    big = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1e999, '
        + "9" * 5000
        + "]}}]}"
    )
    result = parse_cameras(big.encode(), "big.geojson")
    assert result.cameras == [] and len(result.errors) == 1


def _never_raises_after_header(prefix: bytes, tail: bytes) -> None:
    result = parse_cameras(prefix + tail, "fuzz.csv")
    assert isinstance(result, ImportResult)
    for cam in result.cameras:
        assert -90 <= cam.lat <= 90 and -180 <= cam.lon <= 180
    for err in result.errors:
        assert err.line >= 1 and err.reason


def test_seeded_fuzz_never_raises_after_a_valid_header() -> None:
    rng = random.Random(1234)
    alphabet = b',"\n\r\t 0123456789.-eE\x00\xff\xc0abc\xea\xb0\x80'
    for i in range(300):
        n = rng.randrange(0, 400)
        if i % 2:
            tail = bytes(rng.randrange(256) for _ in range(n))
        else:
            tail = bytes(rng.choice(alphabet) for _ in range(n))
        _never_raises_after_header(CSV_HEADER.encode(), tail)
        _never_raises_after_header(KR_HEADER.encode("cp949"), tail)


if given is not None:

    @settings(max_examples=150, deadline=None)
    @given(
        st.binary(max_size=600),
        st.sampled_from([CSV_HEADER.encode(), KR_HEADER.encode(), KR_HEADER.encode("cp949")]),
    )
    def test_fuzz_property(tail: bytes, header: bytes) -> None:
        _never_raises_after_header(header, tail)

    @settings(max_examples=150, deadline=None)
    @given(st.text(max_size=300))
    def test_fuzz_geojson_property(body: str) -> None:
        try:
            result = parse_cameras(
                ('{"type": "FeatureCollection", "features": [' + body).encode(), "f.geojson"
            )
        except ValueError:
            return
        assert all(e.line >= 1 for e in result.errors)

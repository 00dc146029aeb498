"""Districts in the engine and CAP ``<geocode>`` selection (issue #18), with real 시군구 boundaries
(tests/data/districts/SOURCES.md) and real Korean integrated-alert messages (tests/data/cap/SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.domain.camera import Camera
from app.domain.districts import admin_code_prefix, normalise_code, parse_district_geojson
from app.domain.enums import AgencyKind, Purpose, Role
from app.domain.geo import GeoPoint, area_centroid
from tests.engine.conftest import EngineUnderTest, start_engine

DATA = Path(__file__).resolve().parents[1] / "data"
SGG = DATA / "districts" / "admdongkor_sgg_subset.geojson"
CAP = DATA / "cap"


def _cam(cid: str, p: GeoPoint) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        lat=p.lat,
        lon=p.lon,
        purpose=Purpose.DISASTER,
        stream_main=f"rtsp://127.0.0.1:9/{cid}",
        stream_sub=None,
    )


def _inside(code: str) -> GeoPoint:
    """A point inside the district ``code`` of the real file (its outer ring's centroid, checked)."""
    parsed = parse_district_geojson(SGG.read_bytes(), "sgg", "SGGNM")
    d = next(d for d in parsed.districts if d.code == code)
    part = max(d.parts, key=lambda p: len(p.outer.points))
    c = area_centroid(part.outer)
    assert d.contains(c), f"the centroid of {code} is outside it; pick another point"
    return c


def _cli(capsys: pytest.CaptureFixture[str], engine: EngineUnderTest, *argv: str) -> tuple[int, str, str]:
    s = engine.server.settings
    db = ["--data-dir", str(s.data_dir)] + (["--db", s.db_url] if s.db_url else [])
    code = main([*argv, *db])
    out, err = capsys.readouterr()
    return code, out, err


def _import_real(capsys: pytest.CaptureFixture[str], engine: EngineUnderTest) -> None:
    code, out, err = _cli(
        capsys, engine, "districts", "import", str(SGG), "--code-property", "sgg", "--name-property", "SGGNM"
    )
    assert code == 0, err
    assert "10 districts imported" in out


def _post(engine: EngineUnderTest, xml: bytes) -> tuple[int, dict[str, object]]:
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    r = engine.http.post(
        "/api/v1/alerts/cap", headers={**room.headers, "content-type": "application/cap+xml"}, content=xml
    )
    return r.status_code, r.json()


def test_admin_code_hierarchy_rule() -> None:
    assert admin_code_prefix("1100000000") == "11"  # 시도
    assert admin_code_prefix("4311000000") == "4311"  # 시 with 일반구 (5th digit 0)
    assert admin_code_prefix("4311100000") == "43111"  # 일반구
    assert admin_code_prefix("1111000000") == "1111"  # 자치구 종로구 (its 동 are 1111051500 …)
    assert admin_code_prefix("1121500000") == "11215"  # 광진구 (5th digit not 0)
    assert admin_code_prefix("4817051500") == "48170515"  # 읍면동
    assert admin_code_prefix("4817051521") == "4817051521"  # 리
    assert normalise_code("11110") == "1111000000"
    assert normalise_code(" 48 ") == "4800000000"
    assert normalise_code("W-12") == "W-12"


def test_import_list_and_console_api(engine: EngineUnderTest, capsys: pytest.CaptureFixture[str]) -> None:
    _import_real(capsys, engine)
    code, out, _ = _cli(capsys, engine, "districts", "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "code,name,south,west,north,east,points"
    assert len(lines) == 11
    assert any(line.startswith("4311100000,청주시상당구,") for line in lines)
    op = engine.add_user("op", Role.OPERATOR)
    r = engine.http.get("/api/v1/districts", headers=op)
    assert r.status_code == 200, r.text
    assert {d["code"] for d in r.json()} >= {"1111000000", "4311100000", "4817000000", "4824000000"}
    # The box prefilter: only Seoul's three 구.
    r = engine.http.get("/api/v1/districts", headers=op, params={"bbox": "37.4,126.8,37.7,127.2"})
    assert sorted(d["code"] for d in r.json()) == ["1111000000", "1114000000", "1117000000"]
    r = engine.http.get("/api/v1/districts", headers=op, params={"bbox": "north", "geometry": "true"})
    assert r.status_code == 422 and "south,west,north,east" in r.json()["detail"]
    r = engine.http.get("/api/v1/districts", headers=op, params={"bbox": "35,127,36,129", "geometry": "1"})
    sacheon = next(d for d in r.json() if d["code"] == "4824000000")
    assert sacheon["geometry"]["type"] == "MultiPolygon" and len(sacheon["geometry"]["coordinates"]) > 1
    room = engine.add_agency("room", AgencyKind.DISASTER)
    assert engine.http.get("/api/v1/districts", headers=room.headers).status_code == 403


def test_import_reports_bad_features_by_index_and_replaces_by_code(
    engine: EngineUnderTest, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    square = [[[128.0, 35.0], [128.1, 35.0], [128.1, 35.1], [128.0, 35.1], [128.0, 35.0]]]
    feats = [
        {"type": "Feature", "properties": {"code": "4817000000", "name": "A"}, "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "x1"}, "geometry": {"type": "Point", "coordinates": [128, 35]}},
        {"type": "Feature", "properties": {"name": "no code"}, "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "x3"}, "geometry": {"type": "Polygon", "coordinates": [[[500, 35], [128, 35], [128, 36], [500, 35]]]}},
    ]  # fmt: skip
    f = tmp_path / "d.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    code, out, err = _cli(capsys, engine, "districts", "import", str(f))
    assert code == 1  # imported, with refusals
    assert "1 districts imported" in out
    assert "feature 1: district x1: geometry type 'Point'" in err
    assert "feature 2: no 'code' property" in err
    assert "feature 3: district x3, ring 0, position 0" in err
    feats[0]["properties"] = {"code": "4817000000", "name": "B"}
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats[:1]}), encoding="utf-8")
    assert _cli(capsys, engine, "districts", "import", str(f))[0] == 0
    code, out, _ = _cli(capsys, engine, "districts", "list", "--format", "json")
    rows = json.loads(out)
    assert [(r["code"], r["name"]) for r in rows] == [("4817000000", "B")]


def test_import_refuses_unusable_files_clearly(
    engine: EngineUnderTest, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = _cli(capsys, engine, "districts", "import", str(bad))
    assert code == 2 and "not a JSON document" in err
    bad.write_text('{"type": "Feature"}', encoding="utf-8")
    code, _, err = _cli(capsys, engine, "districts", "import", str(bad))
    assert code == 2 and "expected a GeoJSON FeatureCollection, got 'Feature'" in err
    code, _, err = _cli(capsys, engine, "districts", "import", str(tmp_path / "missing.geojson"))
    assert code == 2 and "cannot read" in err
    code, _, err = _cli(capsys, engine, "districts", "import", str(SGG))  # codes are under "sgg"
    assert code == 1 and "no usable district (code property 'code'" in err


def test_geocode_only_alert_at_si_gun_gu_level_selects_the_city_and_its_gu(
    engine: EngineUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    # 충청북도 청주시 (4311000000): the file has only its four 일반구 (43111…43114), no feature for the city.
    _import_real(capsys, engine)
    engine.add_cameras(
        [
            _cam("SANGDANG", _inside("4311100000")),
            _cam("HEUNGDEOK", _inside("4311300000")),
            _cam("CHUNGJU", _inside("4313000000")),
            _cam("JONGNO", _inside("1111000000")),
        ]
    )
    status, doc = _post(engine, (CAP / "kieas_AL1.xml").read_bytes())
    assert status == 201, doc
    assert sorted(c["id"] for c in doc["cameras"]) == ["HEUNGDEOK", "SANGDANG"]  # type: ignore[attr-defined]
    inc = doc["incident"]
    area = inc["details"]["areas"][0]  # type: ignore[index]
    assert area["desc"] == "충청북도 청주시"
    assert [d["code"] for d in area["districts"]] == ["4311100000", "4311200000", "4311300000", "4311400000"]
    # The place is inside 청주 (36.5–36.8 N, 127.3–127.8 E), not at 0, 0.
    assert 36.4 < inc["location"]["lat"] < 36.8 and 127.3 < inc["location"]["lon"] < 127.8  # type: ignore[index]
    assert inc["details"]["description"].strip().startswith("2015년 8월 19일")  # type: ignore[index]


def test_geocode_only_alert_at_si_do_level_selects_every_district_of_seoul(
    engine: EngineUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_real(capsys, engine)
    engine.add_cameras(
        [
            _cam("JONGNO", _inside("1111000000")),
            _cam("JUNG", _inside("1114000000")),
            _cam("YONGSAN", _inside("1117000000")),
            _cam("CHEONGJU", _inside("4311200000")),
        ]
    )
    status, doc = _post(engine, (CAP / "kieas_HRA.xml").read_bytes())  # 서울특별시 1100000000
    assert status == 201, doc
    assert sorted(c["id"] for c in doc["cameras"]) == ["JONGNO", "JUNG", "YONGSAN"]  # type: ignore[attr-defined]


def test_unknown_geocodes_are_refused_by_name(engine: EngineUnderTest) -> None:
    status, doc = _post(engine, (CAP / "kieas_AL1.xml").read_bytes())  # no districts imported
    assert status == 422
    assert "행정구역코드=4311000000" in str(doc["detail"]) and "districts import" in str(doc["detail"])
    # SAME codes (OASIS A.4, AMBER alert) are not mapped by default: the refusal says so.
    status, doc = _post(engine, (CAP / "oasiscap_v1dot2_appendix_adot4.xml").read_bytes())
    assert status == 422 and "SAME=006037" in str(doc["detail"]) and "not mapped" in str(doc["detail"])


def test_other_value_names_select_by_a_mapped_property(tmp_path: Path, db_url: str | None) -> None:
    # OASIS CAP 1.2 example A.4 (an AMBER alert for Los Angeles County by SAME code only), with a district
    # carrying that SAME code in a property named in the settings.
    engine = start_engine(tmp_path, db_url=db_url, cap={"geocode_properties": {"SAME": "same"}})
    try:
        box = [[[-118.5, 33.9], [-118.0, 33.9], [-118.0, 34.3], [-118.5, 34.3], [-118.5, 33.9]]]
        f = tmp_path / "la.geojson"
        f.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"code": "US-06037", "name": "Los Angeles", "same": "006037"},
                            "geometry": {"type": "Polygon", "coordinates": box},
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        s = engine.server.settings
        argv = ["districts", "import", str(f), "--data-dir", str(s.data_dir)]
        assert main(argv + (["--db", s.db_url] if s.db_url else [])) == 0
        engine.add_cameras([_cam("LA", GeoPoint(34.05, -118.25)), _cam("SF", GeoPoint(37.77, -122.42))])
        status, doc = _post(engine, (CAP / "oasiscap_v1dot2_appendix_adot4.xml").read_bytes())
        assert status == 201, doc
        assert [c["id"] for c in doc["cameras"]] == ["LA"]  # type: ignore[attr-defined]
    finally:
        engine.close()

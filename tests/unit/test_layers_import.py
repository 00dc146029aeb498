"""Sensor and facility layers: CSV and GeoJSON, bad rows with their lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.enums import FacilityKind, SensorKind
from app.domain.layers import Facility, Sensor
from app.domain.layers_import import parse_facilities, parse_sensors

DATA = Path(__file__).resolve().parent.parent / "data"


def test_sensors_csv_file() -> None:
    result = parse_sensors((DATA / "sensors.csv").read_bytes(), "sensors.csv")
    assert result.errors == []
    assert result.sensors == [
        Sensor("SB-001", "칠암동 비상벨", 35.1795, 128.0905, SensorKind.EMERGENCY_BELL, None),
        Sensor("WL-001", "남강 수위계 (진주교)", 35.189, 128.082, SensorKind.WATER_LEVEL, 4.5),
        Sensor("GS-001", "상대동 가스 감지기", 35.181, 128.11, SensorKind.GAS, 50.0),
    ]


def test_facilities_geojson_file() -> None:
    result = parse_facilities((DATA / "facilities.geojson").read_bytes(), "facilities.geojson")
    assert result.errors == []
    assert result.facilities[0] == Facility(
        "FAC-H1", "경상국립대학교병원", 35.169, 128.099, FacilityKind.HOSPITAL, "응급실 24시간"
    )
    assert [f.kind for f in result.facilities] == [
        FacilityKind.HOSPITAL,
        FacilityKind.HAZARDOUS,
        FacilityKind.SHELTER,
    ]
    assert result.facilities[2].notes == ""


def test_facilities_csv_in_cp949_with_notes() -> None:
    text = "id,name,lat,lon,kind,threshold,notes\nF1,주유소,35.17,128.14,HAZARDOUS,,유류 20kL\nF2,소화전,35.18,128.1,hydrant,,\n"
    result = parse_facilities(text.encode("cp949"), "f.csv")
    assert result.errors == []
    assert [(f.id, f.kind, f.notes) for f in result.facilities] == [
        ("F1", FacilityKind.HAZARDOUS, "유류 20kL"),
        ("F2", FacilityKind.HYDRANT, ""),
    ]


def test_sensor_bad_rows_reported_with_line_numbers() -> None:
    text = (
        "\n".join(
            [
                "id,name,lat,lon,kind,threshold",
                "S1,ok,35.18,128.08,water_level,3",  # 2 ok (underscore accepted)
                "S2,bad kind,35.18,128.08,smoke,",  # 3
                "S3,bad threshold,35.18,128.08,gas,high",  # 4
                "S4,inf threshold,35.18,128.08,gas,inf",  # 5
                "S1,dup,35.18,128.08,gas,",  # 6
                "S5,no pos,,,gas,",  # 7
                "S6,,35.18,128.08,,",  # 8
            ]
        )
        + "\n"
    )
    result = parse_sensors(text.encode(), "s.csv")
    assert [s.id for s in result.sensors] == ["S1"]
    got = {e.line: e.reason for e in result.errors}
    assert got == {
        3: "kind 'smoke' is not one of emergency-bell, water-level, gas",
        4: "threshold 'high' is not a number",
        5: "threshold 'inf' is not a number",
        6: "duplicate id 'S1' (first on line 2)",
        7: "lat is empty",
        8: "kind is empty (one of emergency-bell, water-level, gas)",
    }


def test_facility_geojson_bad_features() -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.1, 35.18]},
            "properties": {"id": "F1", "kind": "shelter"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.1, 95.0]},
            "properties": {"id": "F2", "kind": "shelter"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.1, 35.18]},
            "properties": {"id": "F3", "kind": "school"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.1, 35.18]},
            "properties": {"id": "F4", "kind": "other", "notes": ["x"]},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [128.1, 35.18]},
            "properties": "oops",
        },
    ]
    text = (
        '{"type": "FeatureCollection", "features": [\n' + ",\n".join(json.dumps(f) for f in features) + "\n]}"
    )
    result = parse_facilities(text.encode(), "f.geojson")
    assert [f.id for f in result.facilities] == ["F1"]
    got = {e.line: e.reason for e in result.errors}
    assert sorted(got) == [3, 4, 5, 6]
    assert "latitude 95.0" in got[3]
    assert got[4].startswith("kind 'school' is not one of hazardous")
    assert got[5] == "notes must be text, got ['x']"
    assert got[6] == "feature properties must be an object"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8\xff\xe0 jpeg",
        b"id,name,lat,lon,purpose\nC1,cam,35.18,128.08,crime\n",  # a camera file: no kind column
        b'{"type": "GeometryCollection", "geometries": []}',
    ],
)
def test_unrecognisable_layer_files_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_sensors(data, "x")
    with pytest.raises(ValueError):
        parse_facilities(data, "x")


def test_hostile_rows_do_not_escape() -> None:
    data = (
        b"id,name,lat,lon,kind\n"
        + b"X1,\xff\xfe,35.18,128.08,gas\n"
        + b"X2,"
        + b"n" * 200_000
        + b",1,1,gas\n"
        + b"X3,ok,35.18,128.08,gas\n"
    )
    result = parse_sensors(data, "s.csv")
    assert [s.id for s in result.sensors] == ["X3"]
    assert [e.line for e in result.errors] == [2, 3]

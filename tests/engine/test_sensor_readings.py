"""Sensor readings that open nothing are recorded in batches (app/engine/sensor_readings.py): many readings
to one insert and one audit row per gateway, each caller answered once its reading is durable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.enums import AgencyKind, SensorKind
from app.domain.layers import Sensor
from app.engine.services.directory import upsert_sensors
from app.store import audit_chain
from app.store.models import AuditRow, IncidentRow, SensorReadingRow
from tests.engine.conftest import ADMIN, JINJU, AgencyKeys, EngineUnderTest, grid_cameras, start_engine


@pytest.fixture
def river(tmp_path: Path, db_url: str | None) -> Iterator[tuple[EngineUnderTest, list[AgencyKeys]]]:
    e = start_engine(tmp_path, db_url=db_url, request_threads=12)
    e.add_cameras(grid_cameras(n_side=6))
    gateways = [e.add_agency(f"gateway {g}", AgencyKind.DISASTER) for g in range(2)]
    with e.server.uow(ADMIN) as work:
        upsert_sensors(
            work,
            [
                Sensor(f"W-{g}-{k}", f"river {g}-{k}", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 5.0, gw.id)
                for g, gw in enumerate(gateways)
                for k in range(5)
            ],
        )
    yield e, gateways
    e.close()


def _count(e: EngineUnderTest, q: object) -> int:
    with e.server.uow.read() as s:
        return int(s.scalar(q) or 0)  # type: ignore[call-overload]


def test_readings_below_threshold_are_recorded_in_one_batch_with_one_audit_row_per_gateway(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    if e.server.uow.group is None:
        pytest.skip("holding the writer to gather a batch is SQLite's single writer; PostgreSQL has none")
    readings = e.server.ctx.sensor_readings
    release, holding = threading.Event(), threading.Event()

    def hold_writer() -> None:
        with e.server.uow.writing():
            holding.set()
            release.wait(20)

    bodies = [
        (gw, {"sensor_id": f"W-{g}-{k}", "value": 1.0 + k / 10})
        for g, gw in enumerate(gateways)
        for k in range(5)
    ]
    before = readings.batches
    with (
        ThreadPoolExecutor(len(bodies) + 1) as pool,
        httpx.Client(base_url=e.url, timeout=30, limits=httpx.Limits(max_connections=20)) as http,
    ):
        holder = pool.submit(hold_writer)
        holding.wait(10)
        answers = [
            pool.submit(http.post, "/api/v1/sensors/events", json=b, headers=gw.headers) for gw, b in bodies
        ]
        # Every reading has reached its batch (one leads it and waits for the writer, the rest wait for it).
        deadline = time.monotonic() + 20
        while len(readings._batch.rows) < len(bodies):
            assert time.monotonic() < deadline, "the readings never gathered"
            time.sleep(0.005)
        assert not any(a.done() for a in answers)  # none answered before its reading is written
        release.set()
        holder.result(10)
        results = [a.result(30) for a in answers]
    assert [r.status_code for r in results] == [202] * len(bodies)
    assert readings.batches - before == 1
    assert _count(e, select(func.count()).select_from(SensorReadingRow)) == len(bodies)
    audit = _count(e, select(func.count()).select_from(AuditRow).where(AuditRow.action == "sensor.readings"))
    assert audit == len(gateways)
    assert _count(e, select(func.count()).select_from(AuditRow).where(AuditRow.action == "sensor.event")) == 0
    with e.server.uow.read() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.action == "sensor.readings")).all()
        assert sorted(r.detail["count"] for r in rows) == [5, 5]
        assert {r.actor for r in rows} == {f"agency:{gw.id}" for gw in gateways} or len(
            {r.actor for r in rows}
        ) == 2
        _, problems, _ = audit_chain.verify(s)
        assert problems == []


def test_a_reading_above_threshold_opens_an_incident_and_later_readings_join_it(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw = gateways[0]
    low = e.http.post("/api/v1/sensors/events", json={"sensor_id": "W-0-0", "value": 2.0}, headers=gw.headers)
    assert low.status_code == 202
    high = e.http.post(
        "/api/v1/sensors/events", json={"sensor_id": "W-0-0", "value": 6.5}, headers=gw.headers
    )
    assert high.status_code == 201, high.text
    assert high.json()["cameras"]  # chosen before the writer, stored with the incident
    # Below the threshold again, but the sensor's incident is open: the reading goes to its timeline.
    again = e.http.post(
        "/api/v1/sensors/events", json={"sensor_id": "W-0-0", "value": 3.0}, headers=gw.headers
    )
    assert again.status_code == 200
    assert again.json()["incident"]["id"] == high.json()["incident"]["id"]
    assert _count(e, select(func.count()).select_from(IncidentRow)) == 1
    assert _count(e, select(func.count()).select_from(SensorReadingRow)) == 1
    # Someone else's sensor and a reading without a zone are refused precisely, and nothing is recorded.
    other = e.http.post(
        "/api/v1/sensors/events", json={"sensor_id": "W-1-0", "value": 1.0}, headers=gw.headers
    )
    assert other.status_code == 403
    naive = e.http.post(
        "/api/v1/sensors/events",
        json={"sensor_id": "W-0-1", "value": 1.0, "observed_at": "2026-12-06T10:00:00"},
        headers=gw.headers,
    )
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
    assert _count(e, select(func.count()).select_from(SensorReadingRow)) == 1


def test_a_gateway_posts_many_readings_at_once_and_gets_each_outcome_in_order(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw = gateways[0]
    before = e.server.ctx.sensor_readings.batches
    readings = [{"sensor_id": f"W-0-{k % 5}", "value": 1.0 + k / 100} for k in range(40)]
    readings.insert(7, {"sensor_id": "W-0-3", "value": 9.0})  # above the threshold: opens an incident
    r = e.http.post("/api/v1/sensors/readings", json={"readings": readings}, headers=gw.headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["sensor_id"] for x in results] == [x["sensor_id"] for x in readings]
    assert results[7]["outcome"] == "opened" and results[7]["incident_id"]
    assert sum(x["outcome"] == "recorded" for x in results) == 40
    # The forty quiet readings: one batch, one insert, one audit row.
    assert e.server.ctx.sensor_readings.batches - before == 1
    assert _count(e, select(func.count()).select_from(SensorReadingRow)) == 40
    assert (
        _count(e, select(func.count()).select_from(AuditRow).where(AuditRow.action == "sensor.readings")) == 1
    )
    # One foreign sensor refuses the whole request, naming it, and records nothing.
    bad = e.http.post(
        "/api/v1/sensors/readings",
        json={"readings": [{"sensor_id": "W-0-1", "value": 1.0}, {"sensor_id": "W-1-1", "value": 1.0}]},
        headers=gw.headers,
    )
    assert bad.status_code == 403 and "readings[1]" in bad.json()["detail"]
    too_many = e.http.post(
        "/api/v1/sensors/readings",
        json={"readings": [{"sensor_id": "W-0-1", "value": 1.0}] * 501},
        headers=gw.headers,
    )
    assert too_many.status_code == 422
    assert _count(e, select(func.count()).select_from(SensorReadingRow)) == 40

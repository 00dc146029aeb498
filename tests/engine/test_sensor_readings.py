"""Sensor readings that open nothing (issue 17): checked against the in-memory sensor cache, written by the
flusher in batches (app/engine/sensor_readings.py) — many readings to one insert and one audit row per
gateway, each caller answered once its reading is durable, no request thread held while it waits — refused
precisely when hostile, and pruned by the retention policy."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from app.domain.clock import SystemClock
from app.domain.enums import AgencyKind, Role, SensorKind
from app.domain.layers import Sensor
from app.engine.retention_settings import RetentionSettings
from app.engine.services.directory import create_agency, upsert_sensors
from app.engine.services.retention import Retention
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.formats.api import AgencyIn
from app.store import audit_chain
from app.store.database import Database
from app.store.models import AuditRow, IncidentRow, SensorReadingRow, SensorRow
from tests.engine.conftest import ADMIN, JINJU, AgencyKeys, EngineUnderTest, grid_cameras, start_engine

ROOT = Path(__file__).resolve().parents[2]


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
        while readings.pending() < len(bodies):
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


def _post(e: EngineUnderTest, gw: AgencyKeys, readings: list[dict[str, object]]) -> httpx.Response:
    return e.http.post("/api/v1/sensors/readings", json={"readings": readings}, headers=gw.headers)


def _readings(e: EngineUnderTest) -> int:
    return _count(e, select(func.count()).select_from(SensorReadingRow))


def test_hostile_readings_are_refused_precisely_and_nothing_accepted_is_lost(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw, other = gateways
    # Accepted first: these must survive every refusal below.
    ok = _post(e, gw, [{"sensor_id": f"W-0-{k}", "value": 1.0} for k in range(5)])
    assert ok.status_code == 200, ok.text
    assert [x["outcome"] for x in ok.json()["results"]] == ["recorded"] * 5
    refusals: list[tuple[list[dict[str, object]] | str, int, str]] = [
        # A sensor the engine does not know, after a good one: the whole request, naming it.
        ([{"sensor_id": "W-0-1", "value": 1.0}, {"sensor_id": "NOPE-1", "value": 1.0}], 404, "readings[1]"),
        # Another gateway's sensor.
        ([{"sensor_id": "W-0-1", "value": 1.0}, {"sensor_id": "W-1-0", "value": 1.0}], 403, "readings[1]"),
        # Neither a value nor an alarm.
        ([{"sensor_id": "W-0-1"}], 422, "value"),
        # No time zone.
        ([{"sensor_id": "W-0-1", "value": 1.0, "observed_at": "2026-12-06T10:00:00"}], 422, "time zone"),
        # Not a number: JSON's NaN and Infinity (Python's json reads them) and an overflowing literal.
        ('{"readings": [{"sensor_id": "W-0-1", "value": NaN}]}', 422, "finite"),
        ('{"readings": [{"sensor_id": "W-0-1", "value": Infinity}]}', 422, "finite"),
        ('{"readings": [{"sensor_id": "W-0-1", "value": -1e999}]}', 422, "finite"),
        # Too many at once, and none at all.
        ([{"sensor_id": "W-0-1", "value": 1.0}] * 501, 422, "500"),
        ([], 422, "at least 1"),
        # A sensor id that looks like SQL is just an id nobody has.
        ([{"sensor_id": "W-0-1'; DROP TABLE sensors; --", "value": 1.0}], 404, "no sensor"),
    ]
    for body, status, word in refusals:
        if isinstance(body, str):
            r = e.http.post(
                "/api/v1/sensors/readings",
                content=body,
                headers={**gw.headers, "content-type": "application/json"},
            )
        else:
            r = _post(e, gw, body)
        assert r.status_code == status, (body if isinstance(body, str) else body[:2], r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
        assert word in json.dumps(r.json()), (word, r.text[:300])
    # Over the body limit (1 MiB): refused before it is read whole.
    huge = {"readings": [{"sensor_id": "W-0-1", "value": 1.0, "note": "x" * (2 << 20)}]}
    r = e.http.post("/api/v1/sensors/readings", json=huge, headers=gw.headers)
    assert r.status_code == 413, r.text[:300]
    # The same refusals on the one-reading route.
    r = e.http.post("/api/v1/sensors/events", json={"sensor_id": "NOPE-1", "value": 1.0}, headers=gw.headers)
    assert r.status_code == 404 and "NOPE-1" in r.json()["detail"]
    r = e.http.post(
        "/api/v1/sensors/events",
        content='{"sensor_id": "W-0-1", "value": NaN}',
        headers={**gw.headers, "content-type": "application/json"},
    )
    assert r.status_code == 422
    # A console user is no gateway.
    op = e.add_user("op", Role.OPERATOR)
    r = e.http.post(
        "/api/v1/sensors/readings", json={"readings": [{"sensor_id": "W-0-1", "value": 1}]}, headers=op
    )
    assert r.status_code == 403
    # The other gateway still posts its own; nothing accepted was lost, nothing refused was written.
    assert _post(e, other, [{"sensor_id": "W-1-0", "value": 2.0}]).status_code == 200
    assert _readings(e) == 6
    with e.server.uow.read() as s:
        rows = s.execute(select(SensorReadingRow.sensor_id, SensorReadingRow.agency_id)).all()
    assert sorted(rows) == sorted([(f"W-0-{k}", gw.id) for k in range(5)] + [("W-1-0", other.id)])


def test_the_sensor_cache_follows_changes_and_closed_incidents(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw, other = gateways
    assert _post(e, gw, [{"sensor_id": "W-0-0", "value": 1.0}]).status_code == 200
    # A new sensor, and one handed to the other gateway, in this engine: seen at once.
    with e.server.uow(ADMIN) as work:
        upsert_sensors(
            work,
            [
                Sensor("W-0-9", "river new", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 5.0, gw.id),
                Sensor("W-0-0", "river 0-0", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 5.0, other.id),
            ],
        )
    assert _post(e, gw, [{"sensor_id": "W-0-9", "value": 1.0}]).status_code == 200
    r = _post(e, gw, [{"sensor_id": "W-0-0", "value": 1.0}])
    assert r.status_code == 403, r.text
    assert _post(e, other, [{"sensor_id": "W-0-0", "value": 1.0}]).status_code == 200
    # A sensor imported by another process (no event here): found on the first miss after a second.
    cache = e.server.ctx.sensor_readings.cache
    eng = e.server.db.write
    with eng.begin() as c:
        c.execute(
            SensorRow.__table__.insert(),  # type: ignore[attr-defined]
            {
                "id": "W-0-10",
                "name": "r",
                "kind": "water-level",
                "lat": 35.18,
                "lon": 128.08,
                "threshold": 5.0,
                "agency_id": gw.id,
            },
        )
    deadline = time.monotonic() + 10
    while (r := _post(e, gw, [{"sensor_id": "W-0-10", "value": 1.0}])).status_code == 404:
        assert time.monotonic() < deadline and cache.miss_interval_s <= 1.0, r.text
        time.sleep(0.1)
    assert r.status_code == 200, r.text
    # Above threshold: opens an incident; the next quiet reading joins it at once (this engine knows).
    opened = _post(e, gw, [{"sensor_id": "W-0-1", "value": 9.0}])
    assert opened.json()["results"][0]["outcome"] == "opened"
    incident = opened.json()["results"][0]["incident_id"]
    joined = _post(e, gw, [{"sensor_id": "W-0-1", "value": 1.0}])
    assert joined.json()["results"][0] == {
        "sensor_id": "W-0-1",
        "outcome": "updated",
        "incident_id": incident,
    }
    # Closed by an operator: the next quiet reading is recorded plainly, and so are the ones after it.
    op = e.add_user("op", Role.OPERATOR)
    assert (
        e.http.patch(f"/api/v1/incidents/{incident}", headers=op, json={"status": "closed"}).status_code
        == 200
    )
    for _ in range(2):
        r = _post(e, gw, [{"sensor_id": "W-0-1", "value": 1.0}])
        assert r.json()["results"][0] == {"sensor_id": "W-0-1", "outcome": "recorded", "incident_id": None}
    assert "W-0-1" not in cache.open_sensors(e.server.uow)


def test_old_readings_leave_by_the_retention_policy_in_batches(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw = gateways[0]
    assert _post(e, gw, [{"sensor_id": f"W-0-{k % 5}", "value": 1.0} for k in range(7)]).status_code == 200
    with e.server.uow.read() as s:
        received = s.scalar(select(func.max(SensorReadingRow.at)))
    assert received is not None
    audit_before = _count(
        e, select(func.count()).select_from(AuditRow).where(AuditRow.action == "sensor.readings")
    )
    retention = Retention(e.server.uow, RetentionSettings(batch_rows=3), e.server.settings.data_dir)
    # 29 days later: the default keeps 30 days; nothing goes.
    out = retention.run(received + timedelta(days=29))
    assert out.deleted["sensor_readings"]["count"] == 0
    assert _readings(e) == 7
    # Younger readings arrive (day 20 as the clock says): then 31 days after the first ones only those go,
    # three a transaction.
    with e.server.uow.writing() as s:
        s.execute(
            SensorReadingRow.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "sensor_id": "W-0-0",
                    "agency_id": gw.id,
                    "at": received + timedelta(days=20),
                    "alarm": False,
                    "value": 2.0,
                }
            ]
            * 2,
        )
    out = retention.run(received + timedelta(days=31))
    assert out.deleted["sensor_readings"]["count"] == 7
    assert out.deleted["sensor_readings"]["received_before"] == (received + timedelta(days=1)).isoformat()
    assert _readings(e) == 2
    # The audit of who sent them stays (its own policy), and says so for the run.
    assert (
        _count(e, select(func.count()).select_from(AuditRow).where(AuditRow.action == "sensor.readings"))
        == audit_before
    )
    with e.server.uow.read() as s:
        run = s.scalars(
            select(AuditRow).where(AuditRow.action == "retention.run").order_by(AuditRow.id.desc())
        ).first()
        assert run is not None and run.detail["deleted"]["sensor_readings"]["count"] == 7
        _, problems, _ = audit_chain.verify(s)
        assert problems == []
    # A shorter policy takes the rest.
    short = Retention(e.server.uow, RetentionSettings(sensor_reading_days=5), e.server.settings.data_dir)
    assert short.run(received + timedelta(days=31)).deleted["sensor_readings"]["count"] == 2
    assert _readings(e) == 0


def test_a_failed_flush_answers_each_caller_not_stored_and_writes_nothing(
    river: tuple[EngineUnderTest, list[AgencyKeys]],
) -> None:
    e, gateways = river
    gw = gateways[0]
    assert _post(e, gw, [{"sensor_id": "W-0-0", "value": 1.0}]).status_code == 200
    with e.server.uow.read() as s:
        _, _, head_before = audit_chain.verify(s)
    # The table the flusher writes is gone (a real database error, not a stand-in).
    with e.server.uow.writing() as s:
        s.execute(text("ALTER TABLE sensor_readings RENAME TO sensor_readings_away"))
    with ThreadPoolExecutor(4) as pool:
        answers = [
            pool.submit(
                _post, e, gateways[i % 2], [{"sensor_id": f"W-{i % 2}-{k}", "value": 1.0} for k in range(3)]
            )
            for i in range(4)
        ]
        failed = [a.result(30) for a in answers]
    for r in failed:
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "not stored" in r.json()["detail"] and r.headers["retry-after"] == "1"
    with e.server.uow.writing() as s:
        s.execute(text("ALTER TABLE sensor_readings_away RENAME TO sensor_readings"))
    # Nothing of the failed flushes was written (no reading, no audit row); the gateways send again.
    assert _readings(e) == 1
    with e.server.uow.read() as s:
        _, problems, head_after = audit_chain.verify(s)
        assert problems == [] and head_after == head_before
    again = _post(e, gw, [{"sensor_id": "W-0-1", "value": 1.0}])
    assert again.status_code == 200, again.text
    assert _readings(e) == 2


def test_a_quiet_reading_waits_for_its_flush_without_holding_a_request_thread(tmp_path: Path) -> None:
    # One request thread only: a reading waiting for the writer must not keep others from it.
    e = start_engine(tmp_path, request_threads=1)
    try:
        gw = e.add_agency("gateway", AgencyKind.DISASTER)
        with e.server.uow(ADMIN) as work:
            upsert_sensors(
                work, [Sensor("W-1", "river", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 5.0, gw.id)]
            )
        assert _post(e, gw, [{"sensor_id": "W-1", "value": 1.0}]).status_code == 200  # the cache loads
        readings = e.server.ctx.sensor_readings
        release, holding = threading.Event(), threading.Event()

        def hold_writer() -> None:
            with e.server.uow.writing():
                holding.set()
                release.wait(20)

        with ThreadPoolExecutor(2) as pool:
            holder = pool.submit(hold_writer)
            assert holding.wait(10)
            answer = pool.submit(_post, e, gw, [{"sensor_id": "W-1", "value": 2.0}])
            deadline = time.monotonic() + 10
            while readings.pending() < 1:
                assert time.monotonic() < deadline, "the reading never reached the flusher"
                time.sleep(0.005)
            # The reading waits for the writer; the one request thread is free for anyone else.
            with httpx.Client(base_url=e.url, timeout=5) as other:
                assert other.get("/api/v1/health").status_code == 200
            assert not answer.done()
            release.set()
            holder.result(10)
            assert answer.result(30).status_code == 200
        assert _readings(e) == 2
    finally:
        e.close()


def test_an_engine_killed_right_after_answering_has_every_answered_reading(tmp_path: Path) -> None:
    """Durability of the flusher: SIGKILL the engine process the moment an answer arrives; every reading
    answered before it is in the database, with its flush's audit row."""
    data = tmp_path / "engine"
    data.mkdir()
    settings = Settings(data_dir=data)
    db = Database(settings.database_url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    with uow(ADMIN) as work:
        gateway = create_agency(
            work.session,
            AgencyIn(name="gateway", kind=AgencyKind.DISASTER, endpoint="http://127.0.0.1:9/hook"),
            settings.outbox,
            work.now,
        )
        upsert_sensors(
            work,
            [
                Sensor(f"W-{k}", f"river {k}", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 5.0, gateway.id)
                for k in range(5)
            ],
        )
    db.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "engine", "--data-dir", str(data), "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    answered: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the engine exited"
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the engine never started"
            time.sleep(0.05)
        headers = {"authorization": f"Bearer {gateway.api_key}"}
        killed = threading.Event()
        lock = threading.Lock()

        def post(i: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                for k in range(60):
                    if killed.is_set():
                        return
                    tag = f"K-{i}-{k}"
                    body = {
                        "readings": [{"sensor_id": f"W-{n}", "value": 1.0, "note": tag} for n in range(5)]
                    }
                    try:
                        r = http.post("/api/v1/sensors/readings", json=body, headers=headers)
                    except httpx.HTTPError:
                        return  # the engine is gone
                    if r.status_code == 200:
                        with lock:
                            answered.append(tag)
                            if len(answered) >= 20 and not killed.is_set():
                                # SIGKILL the moment this answer arrived: no shutdown, no flush.
                                os.kill(proc.pid, signal.SIGKILL)
                                killed.set()

        threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert killed.is_set(), "the engine was never killed"
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    con = sqlite3.connect(data / "goldentime.db")  # as a fresh process would (WAL recovery included)
    try:
        stored = dict(con.execute("SELECT note, count(*) FROM sensor_readings GROUP BY note").fetchall())
        lost = [tag for tag in answered if stored.get(tag) != 5]
        assert not lost, f"answered but lost: {lost}"
        audited = sum(
            json.loads(d)["count"]
            for (d,) in con.execute("SELECT detail FROM audit WHERE action = 'sensor.readings'")
        )
        assert audited == sum(stored.values())  # every stored reading is counted by its flush's audit row
    finally:
        con.close()

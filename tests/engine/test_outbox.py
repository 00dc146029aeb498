"""Delivery to agencies: signed, in order, at least once, through outages and crashes (real servers, 127.0.0.1).

Time comes from a ManualClock that the tests move; the dispatcher is woken after each move instead of
the test sleeping.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, DeliveryFormat, Role
from app.sim.agency import AgencySimulator
from app.store.models import AgencyRow, DeliveryRow
from tests.engine.conftest import JINJU, AgencyKeys, EngineUnderTest, grid_cameras, start_engine
from tests.engine.conftest import request_body as req

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(tmp_path: Path, clock: ManualClock, db_url: str | None) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path, clock=clock, db_url=db_url)
    e.add_cameras(grid_cameras())
    yield e
    e.close()


def deliveries(e: EngineUnderTest) -> list[DeliveryRow]:
    with e.server.uow.read() as s:
        return list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.created_at, DeliveryRow.sequence)))


def wait_states(e: EngineUnderTest, predicate: object, timeout: float = 10.0) -> list[DeliveryRow]:
    """Wait (on the live hub, not by sleeping blind) until the outbox rows satisfy ``predicate``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = deliveries(e)
        if predicate(rows):  # type: ignore[operator]
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"outbox did not reach the state: {[(d.event_type, d.state, d.attempts) for d in rows]}"
            )
        e.server.dispatcher.wake()
        time.sleep(0.02)


def advance_until(
    e: EngineUnderTest, clock: ManualClock, predicate: object, step_s: float = 60, timeout: float = 20.0
) -> list[DeliveryRow]:
    """Move the clock a retry step at a time until the outbox satisfies ``predicate``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = deliveries(e)
        if predicate(rows):  # type: ignore[operator]
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"outbox did not reach the state: {[(d.event_type, d.state, d.attempts) for d in rows]}"
            )
        advance(e, clock, step_s)
        time.sleep(0.05)


def advance(e: EngineUnderTest, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    e.server.dispatcher.wake()


def _sim_for(
    eng: EngineUnderTest,
    clock: ManualClock,
    name: str = "Jinju 112",
    kind: AgencyKind = AgencyKind.POLICE,
    fmt: DeliveryFormat = DeliveryFormat.JSON,
) -> tuple[AgencySimulator, AgencyKeys]:
    """Register an agency, then start its simulator with the secret the engine made and point the agency at it."""
    agency = eng.add_agency(name, kind, "http://127.0.0.1:9/placeholder", fmt)
    sim = AgencySimulator(secrets=agency.webhook_secret, kind=kind, fmt=fmt, clock=clock.now).start()
    with eng.server.uow.writing() as s:
        row = s.get(AgencyRow, agency.id)
        assert row is not None
        row.endpoint = sim.webhook_url
    return sim, agency


@pytest.mark.parametrize("fmt", list(DeliveryFormat))
def test_every_event_type_reaches_the_right_agency_in_every_format(
    eng: EngineUnderTest, clock: ManualClock, fmt: DeliveryFormat
) -> None:
    police_sim, police = _sim_for(eng, clock, "Jinju 112", AgencyKind.POLICE, fmt)
    fire_sim, fire = _sim_for(eng, clock, "Jinju 119", AgencyKind.FIRE, fmt)
    dis_sim, disaster = _sim_for(eng, clock, "Disaster room", AgencyKind.DISASTER, fmt)
    with contextlib.ExitStack() as stack:
        for sim in (police_sim, fire_sim, dis_sim):
            stack.callback(sim.stop)
        op = eng.add_user()
        iid = eng.http.post("/api/v1/requests", headers=police.headers, json=req("E-1")).json()["incident"][
            "id"
        ]
        eng.http.post("/api/v1/requests/E-1/updates", headers=police.headers, json={"units": ["P-1"]})
        eng.http.post(
            "/api/v1/requests/E-1/updates",
            headers=police.headers,
            json={"location": {"lat": JINJU[0] + 0.003, "lon": JINJU[1]}},
        )
        share = eng.http.post(
            f"/api/v1/incidents/{iid}/shares",
            headers=eng.add_user("sup", Role.SUPERVISOR),  # another agency: a supervisor's decision
            json={
                "agency_id": fire.id,
                "camera_ids": ["CAM-0001"],
                "minutes": 5,
                "purpose": "fire check",
                "legal_basis": "pipa-18-2-3",
            },
        ).json()
        eng.http.post(
            f"/api/v1/incidents/{iid}/reports",
            headers=op,
            json={"agency_id": fire.id, "kind": "fire", "note": "smoke", "camera_id": "CAM-0002"},
        )
        eng.http.delete(f"/api/v1/shares/{share['id']}", headers=op)
        eng.http.patch(f"/api/v1/incidents/{iid}", headers=op, json={"status": "closed"})
        cap = (ROOT / "tests" / "data" / "cap_flood.xml").read_bytes()
        r = eng.http.post(
            "/api/v1/alerts/cap",
            headers={**disaster.headers, "content-type": "application/cap+xml"},
            content=cap,
        )
        assert r.status_code == 201, r.text
        # The flood's area holds more cameras than the agency's automatic cap: its share waits for an
        # operator's confirmation (issue 12), then it is delivered like any other.
        pending = eng.http.get("/api/v1/shares/pending", headers=op).json()
        for waiting in [p for p in pending if p["agency_id"] == disaster.id and p["approval"] == "confirm"]:
            ok = eng.http.post(
                f"/api/v1/shares/{waiting['id']}/confirm", headers=op, json={"reason": "flood"}
            )
            assert ok.status_code == 200, ok.text

        got_police = police_sim.wait_for(4)
        assert [e.type for e in got_police] == [
            "share.created",
            "incident.updated",
            "share.updated",
            "incident.closed",
        ]
        assert [e.sequence for e in got_police] == [1, 2, 3, 4]
        assert {e.incident_id for e in got_police} == {iid}
        got_fire = fire_sim.wait_for(4)
        # The report came with a share of its camera, so 119 also hears that the incident closed.
        assert [e.type for e in got_fire] == [
            "share.created",
            "report.created",
            "share.revoked",
            "incident.closed",
        ]
        got_dis = dis_sim.wait_for(2)
        assert sorted(e.type for e in got_dis) == ["alert.received", "share.created"]
        # Share links travel in every format.
        assert any(u.endswith(".ts") for u in got_police[0].urls)
        # Headers are Standard Webhooks and the id is the outbox row's id.
        h = got_police[0].headers
        assert h["webhook-id"] == got_police[0].id and h["webhook-signature"].startswith("v1,")
        # The agency answered 2xx; the engine records that right after.
        wait_states(
            eng, lambda rows: all(d.state == "delivered" for d in rows if d.agency_id in (police.id, fire.id))
        )


def test_first_deliveries_are_handed_over_at_commit_and_sent_exactly_once(
    eng: EngineUnderTest, clock: ManualClock
) -> None:
    """A new incident's first event goes straight from the commit to the dispatcher (leased to this
    engine from birth); the claim query running at the same time must not send it a second time."""
    sim, agency = _sim_for(eng, clock)
    try:
        from concurrent.futures import ThreadPoolExecutor

        def post(i: int) -> int:
            return eng.http.post("/api/v1/requests", headers=agency.headers, json=req(f"H-{i}")).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(post, range(40))) == {201}
        got = sim.wait_for(40)
        assert sorted(e.type for e in got) == ["share.created"] * 40
        rows = wait_states(eng, lambda rows: len(rows) == 40 and all(d.state == "delivered" for d in rows))
        assert [d.attempts for d in rows] == [1] * 40, "a delivery was sent twice"
        assert sim.duplicates() == {}
        assert all(d.claimed_by is None for d in rows)  # the lease ends with the recorded attempt
    finally:
        sim.stop()


def test_a_fresh_delivery_is_leased_to_its_engine_and_not_lost_with_the_hand_over(
    eng: EngineUnderTest, clock: ManualClock
) -> None:
    """Written with this engine's lease (another engine sharing the database leaves it alone). If the
    hand-over is lost (the dispatcher stopped), the row waits in the outbox and goes out after a restart."""
    import asyncio

    sim, agency = _sim_for(eng, clock)
    try:
        d = eng.server.dispatcher
        loop = d._loop
        assert loop is not None
        asyncio.run_coroutine_threadsafe(d.stop(), loop).result(10)
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("L-1"))
        (row,) = deliveries(eng)
        assert row.claimed_by == eng.server.uow.engine_id and row.attempts == 0
        assert row.claimed_until is not None and row.claimed_until > clock.now()
        with eng.server.uow.writing() as s:
            s.get(AgencyRow, agency.id).enabled = False  # type: ignore[union-attr]
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("L-2"))
        assert [r.claimed_by for r in deliveries(eng)][1] is None, "a disabled agency's row is not leased"
        with eng.server.uow.writing() as s:
            s.get(AgencyRow, agency.id).enabled = True  # type: ignore[union-attr]
        asyncio.run_coroutine_threadsafe(d.start(drop_leases=True), loop).result(10)
        got = sim.wait_for(2)
        rows = wait_states(eng, lambda rows: all(r.state == "delivered" for r in rows))
        assert sorted(e.id for e in got) == sorted(r.id for r in rows)
        assert [r.attempts for r in rows] == [1, 1]
    finally:
        sim.stop()


def test_bad_signature_is_rejected_by_the_agency(eng: EngineUnderTest, clock: ManualClock) -> None:
    agency = eng.add_agency("Jinju 112", AgencyKind.POLICE, "http://127.0.0.1:9/x")
    with AgencySimulator(secrets="whsec_" + "A" * 43, kind=AgencyKind.POLICE, clock=clock.now) as sim:
        with eng.server.uow.writing() as s:
            s.get(AgencyRow, agency.id).endpoint = sim.webhook_url  # type: ignore[union-attr]
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("S-1"))
        attempts = sim.wait_for_attempts(1)
        assert attempts[0].status == 401 and attempts[0].outcome == "unauthorized"
        rows = wait_states(eng, lambda rows: rows and rows[0].attempts == 1)
        assert rows[0].state == "retrying" and rows[0].last_status == 401
        assert sim.received() == []


def test_agency_down_then_back_receives_exactly_the_missing_events_in_order(
    eng: EngineUnderTest, clock: ManualClock
) -> None:
    sim, agency = _sim_for(eng, clock)
    try:
        sim.set_failure("http500")
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("O-1"))
        for k in range(3):
            eng.http.post("/api/v1/requests/O-1/updates", headers=agency.headers, json={"note": f"note {k}"})
        # Only the head of the stream is tried while the agency is down.
        # Fail through the first steps of the schedule (1 s, 3 s, 10 s, 30 s).
        rows = advance_until(eng, clock, lambda rows: len(rows) == 4 and rows[0].attempts >= 4, step_s=40)
        assert all(d.attempts == 0 for d in rows[1:]), "later events must wait for the first"
        assert {a.webhook_id for a in sim.attempts()} == {rows[0].id}
        sim.set_failure("ok")
        advance(eng, clock, 400)
        got = sim.wait_for(4)
        assert [e.sequence for e in got] == [1, 2, 3, 4]
        assert [e.type for e in got] == [
            "share.created",
            "incident.updated",
            "incident.updated",
            "incident.updated",
        ]
        assert sim.duplicates() == {}
        assert sim.state.order_violations == 0
        assert all(
            d.state == "delivered"
            for d in wait_states(eng, lambda rows: all(d.state == "delivered" for d in rows))
        )
    finally:
        sim.stop()


def test_retry_after_is_honoured_and_410_disables_the_agency(
    eng: EngineUnderTest, clock: ManualClock
) -> None:
    sim, agency = _sim_for(eng, clock)
    try:
        sim.set_failure("http429", count=1, retry_after_s=120)
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("R-1"))
        rows = wait_states(eng, lambda rows: rows[0].attempts == 1)
        wait = (rows[0].next_attempt_at - clock.now()).total_seconds()  # type: ignore[operator]
        assert 119 <= wait <= 121, wait
        advance(eng, clock, 60)
        assert deliveries(eng)[0].attempts == 1  # not before Retry-After
        advance(eng, clock, 61)
        sim.wait_for(1)
        sim.set_failure("http410")
        eng.http.post("/api/v1/requests/R-1/updates", headers=agency.headers, json={"note": "x"})
        wait_states(eng, lambda rows: rows[-1].state == "dead")
        op = eng.add_user()
        listed = eng.http.get("/api/v1/agencies", headers=op).json()
        assert listed[0]["enabled"] is False and listed[0]["health"]["state"] == "disabled"
    finally:
        sim.stop()


def test_dead_letter_and_retry(tmp_path: Path, clock: ManualClock) -> None:
    from app.engine.settings import OutboxSettings

    eng = start_engine(tmp_path, clock=clock, outbox=OutboxSettings(max_attempts=3))
    eng.add_cameras(grid_cameras())
    sim, agency = _sim_for(eng, clock)
    try:
        sim.set_failure("http500")
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("D-1"))
        rows = advance_until(eng, clock, lambda rows: rows[0].state == "dead")
        assert rows[0].attempts == 3
        op = eng.add_user()
        health = eng.http.get("/api/v1/agencies", headers=op).json()[0]["health"]
        assert health["dead_letters"] == 1 and health["state"] == "failing"
        sim.set_failure("ok")
        r = eng.http.post(f"/api/v1/deliveries/{rows[0].id}/retry", headers=op)
        assert r.status_code == 200 and r.json()["state"] == "retrying"
        assert eng.http.post(f"/api/v1/deliveries/{rows[0].id}/retry", headers=op).status_code == 422
        assert sim.wait_for(1)[0].id == rows[0].id
    finally:
        sim.stop()
        eng.close()


def test_secret_rotation_signs_with_both_secrets(eng: EngineUnderTest, clock: ManualClock) -> None:
    from app.domain.enums import Role

    sim, agency = _sim_for(eng, clock)
    try:
        admin = eng.add_user("admin", Role.ADMIN)
        r = eng.http.patch(f"/api/v1/agencies/{agency.id}", headers=admin, json={"rotate_secret": True})
        assert r.status_code == 200
        new_secret = r.headers["webhook-secret"]
        assert new_secret.startswith("whsec_") and new_secret != agency.webhook_secret
        # The simulator still only knows the old secret: accepted during the overlap.
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("K-1"))
        got = sim.wait_for(1)
        assert len(got[0].headers["webhook-signature"].split()) == 2
        new_only = AgencySimulator(secrets=new_secret, kind=AgencyKind.POLICE, clock=clock.now).start()
        try:
            with eng.server.uow.writing() as s:
                s.get(AgencyRow, agency.id).endpoint = new_only.webhook_url  # type: ignore[union-attr]
            eng.http.post(
                "/api/v1/requests/K-1/updates", headers=agency.headers, json={"note": "after rotation"}
            )
            assert new_only.wait_for(1)[0].sequence == 2
        finally:
            new_only.stop()
    finally:
        sim.stop()


def test_endpoint_checks(eng: EngineUnderTest) -> None:
    from app.domain.enums import Role

    admin = eng.add_user("admin", Role.ADMIN)
    for endpoint, word in (
        ("ftp://x/y", "scheme"),
        ("http://user:pw@h/x", "credentials"),
        ("not a url", "scheme"),
    ):
        r = eng.http.post(
            "/api/v1/agencies", headers=admin, json={"name": "x", "kind": "police", "endpoint": endpoint}
        )
        assert r.status_code == 422 and word in r.json()["detail"], r.text
    ok = eng.http.post(
        "/api/v1/agencies",
        headers=admin,
        json={"name": "x", "kind": "police", "endpoint": "https://112.example/hook"},
    )
    assert ok.status_code == 201 and ok.json()["api_key"].startswith("gtk_")


def test_redirects_are_not_followed(eng: EngineUnderTest, clock: ManualClock) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hits: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), Redirect)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        agency = eng.add_agency("Redirecting", AgencyKind.POLICE, f"http://127.0.0.1:{srv.server_port}/hook")
        eng.http.post("/api/v1/requests", headers=agency.headers, json=req("X-1"))
        rows = wait_states(eng, lambda rows: rows[0].attempts == 1)
        assert rows[0].state == "retrying" and rows[0].last_status == 307 and hits == ["/hook"]
    finally:
        srv.shutdown()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _engine_process(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "engine", "--data-dir", str(data_dir), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("engine process exited")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("engine process did not start")


@pytest.mark.slow
def test_engine_killed_mid_dispatch_delivers_every_accepted_event_after_restart(tmp_path: Path) -> None:
    """SIGKILL while deliveries are in flight; restart on the same database; all arrive, repeats keep their id."""
    from app.domain.clock import SystemClock
    from app.engine.services.directory import create_agency, upsert_cameras
    from app.engine.settings import Settings
    from app.engine.work import UnitOfWorkFactory
    from app.formats.api import AgencyIn
    from app.store.database import Database
    from tests.engine.conftest import ADMIN

    settings = Settings(data_dir=tmp_path)
    db = Database(settings.database_url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    with uow(ADMIN) as work:
        upsert_cameras(work, grid_cameras())
        created = create_agency(
            work.session,
            AgencyIn(name="Jinju 112", kind=AgencyKind.POLICE, endpoint="http://127.0.0.1:9/x"),
            settings.outbox,
            work.now,
        )
    with AgencySimulator(secrets=created.webhook_secret, kind=AgencyKind.POLICE) as sim:
        with uow.writing() as s:
            s.get(AgencyRow, created.id).endpoint = sim.webhook_url  # type: ignore[union-attr]
        db.dispose()
        # Slow answers keep deliveries in flight when the engine is killed.
        sim.set_failure("slow", delay_s=1.0)
        port = _free_port()
        proc = _engine_process(tmp_path, port)
        headers = {"authorization": f"Bearer {created.api_key}"}
        n = 12
        accepted = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for k in range(n):
                r = http.post("/api/v1/requests", headers=headers, json=req(f"K-{k}"))
                assert r.status_code == 201
                accepted.append(r.json()["incident"]["id"])
        sim.wait_for_attempts(1, timeout=20)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        sim.set_failure("ok")
        proc = _engine_process(tmp_path, port)
        try:
            got = sim.wait_for(n, timeout=60)
        finally:
            proc.terminate()
            proc.wait(15)
        assert sorted(e.incident_id for e in got) == sorted(accepted)
        # Duplicates (sent before the kill, recorded after) carry the same webhook-id: the simulator
        # de-duplicated them by it, so each accepted event is in ``got`` exactly once.
        assert len({e.id for e in got}) == n
        attempts_by_id: dict[str | None, int] = {}
        for a in sim.attempts():
            attempts_by_id[a.webhook_id] = attempts_by_id.get(a.webhook_id, 0) + 1
        assert set(attempts_by_id) >= {e.id for e in got}
        json.dumps(sim.duplicates())  # duplicates, if any, are counted per webhook-id


def test_a_claim_that_raced_a_finished_send_does_not_send_it_again(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite claims read a snapshot. Force the interleaving: the claim's query runs while a retry is in
    flight, the retry is delivered and recorded, and only then does the claim go on with its stale rows."""
    import threading
    from collections.abc import Iterator as _Iterator

    e = start_engine(tmp_path, clock=clock)
    e.add_cameras(grid_cameras())
    sim, police = _sim_for(e, clock)
    try:
        disp = e.server.dispatcher
        uow = disp._ctx.uow
        real_read, real_claim = uow.read, disp._claim
        local = threading.local()
        raced, armed = threading.Event(), threading.Event()
        claims = [0]

        def claim(limit: int) -> object:
            claims[0] += 1
            local.claiming = True
            try:
                return real_claim(limit)
            finally:
                local.claiming = False

        @contextlib.contextmanager
        def read() -> _Iterator[object]:
            with real_read() as s:
                if getattr(local, "claiming", False):
                    real_execute = s.execute

                    def execute(stmt: object, *a: object, **k: object) -> object:
                        result = real_execute(stmt, *a, **k)  # type: ignore[arg-type]
                        busy = list(disp._inflight)
                        if not busy or not armed.is_set() or raced.is_set():
                            return result
                        frozen = result.freeze()  # the snapshot, taken while the send was in flight
                        deadline = time.monotonic() + 10
                        while any(i in disp._inflight for i in busy) and time.monotonic() < deadline:
                            time.sleep(0.005)
                        raced.set()
                        return frozen()

                    s.execute = execute  # type: ignore[method-assign]
                yield s

        monkeypatch.setattr(disp, "_claim", claim)
        monkeypatch.setattr(uow, "read", read)

        sim.set_failure("http500", count=1)
        assert e.http.post("/api/v1/requests", headers=police.headers, json=req("RACE-1")).status_code == 201
        wait_states(e, lambda rows: any(d.state == "retrying" for d in rows))
        sim.set_failure("slow", count=1, delay_s=1.5)  # the retry stays in flight across a claim
        armed.set()
        advance(e, clock, 60)
        deadline = time.monotonic() + 15
        while not raced.is_set():
            assert time.monotonic() < deadline, "the claim never overlapped the retry"
            time.sleep(0.01)
        after = claims[0]
        while claims[0] <= after + 1:  # the raced claim's sends were started; one more claim ran
            assert time.monotonic() < deadline
            disp.wake()
            time.sleep(0.01)
        wait_states(e, lambda rows: all(d.state == "delivered" for d in rows) and not disp._inflight)
        assert sim.state.duplicates() == {}
        assert [d.attempts for d in deliveries(e)] == [2]
    finally:
        sim.stop()
        e.close()

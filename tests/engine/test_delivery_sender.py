"""The delivery sender process (issue 17): webhooks leave the engine's process, nothing else changes.

Real parts: the engine on its thread, its sender a real child process, real agency simulators on
127.0.0.1 verifying every signature. The sender is SIGKILLed mid-run: every accepted event still arrives,
in order per (incident, agency) stream, a re-send carries the same ``webhook-id``; the egress guard holds
in the sender (a planted metadata address, an odd numeric host that resolves to a private address at
connect time); the sender stops with the engine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.enums import AgencyKind
from app.sim.agency import AgencySimulator
from app.store.models import AgencyRow, DeliveryRow
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _until(check: Callable[[], object], what: str, timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _rows(e: EngineUnderTest, agency_id: str | None = None) -> list[DeliveryRow]:
    with e.server.uow.read() as s:
        q = select(DeliveryRow).order_by(DeliveryRow.incident_id, DeliveryRow.sequence)
        if agency_id is not None:
            q = q.where(DeliveryRow.agency_id == agency_id)
        return list(s.scalars(q))


def _point(e: EngineUnderTest, agency_id: str, endpoint: str) -> None:
    """Set an endpoint directly in the database (past the admin API's checks, as a changed DNS would)."""
    with e.server.uow.writing() as s:
        row = s.get(AgencyRow, agency_id)
        assert row is not None
        row.endpoint = endpoint


@pytest.fixture
def eng(tmp_path: Path, db_url: str | None) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path, db_url=db_url, outbox={"retry_schedule_s": [0.2, 0.2, 0.5, 1.0]})
    e.add_cameras(grid_cameras())
    yield e
    e.close()


def test_the_sender_is_a_child_process_started_with_the_first_delivery_and_in_health(
    eng: EngineUnderTest,
) -> None:
    d = eng.server.dispatcher
    assert d.sender_pid is None, "no delivery yet: no sender process"
    assert eng.http.get("/readyz").json() == {"status": "ready"}
    police = eng.add_agency("Jinju 112", AgencyKind.POLICE)
    with AgencySimulator(secrets=police.webhook_secret, kind=AgencyKind.POLICE) as sim:
        _point(eng, police.id, sim.webhook_url)
        assert (
            eng.http.post("/api/v1/requests", headers=police.headers, json=request_body("C-1")).status_code
            == 201
        )
        sim.wait_for(1)
    pid = d.sender_pid
    assert pid is not None and pid != os.getpid() and _alive(pid)
    assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(os.getpid())  # our child
    health = eng.http.get("/api/v1/health").json()["delivery"]
    assert health["running"] is True and health["sender"]["pid"] == pid
    assert health["sender"]["state"] == "running"


def test_a_killed_sender_is_restarted_and_every_accepted_event_arrives_in_order(eng: EngineUnderTest) -> None:
    police = eng.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = eng.add_agency("Jinju 119", AgencyKind.FIRE)
    with (
        AgencySimulator(secrets=police.webhook_secret, kind=AgencyKind.POLICE) as psim,
        AgencySimulator(secrets=fire.webhook_secret, kind=AgencyKind.FIRE) as fsim,
    ):
        _point(eng, police.id, psim.webhook_url)
        _point(eng, fire.id, fsim.webhook_url)
        # Slow answers keep deliveries in flight in the sender when it is killed.
        psim.set_failure("slow", delay_s=0.3)
        fsim.set_failure("slow", delay_s=0.3)
        n, updates = 12, 3

        def stream(k: int, agency_headers: dict[str, str], prefix: str) -> None:
            service = "112-emergency-video" if prefix == "P" else "119-dispatch"
            r = eng.http.post(
                "/api/v1/requests", headers=agency_headers, json=request_body(f"{prefix}-{k}", service)
            )
            assert r.status_code == 201, r.text
            for u in range(updates):
                r = eng.http.post(
                    f"/api/v1/requests/{prefix}-{k}/updates", headers=agency_headers, json={"note": f"u{u}"}
                )
                assert r.status_code == 200, r.text

        kills: list[int] = []

        def killer() -> None:
            # Twice while deliveries are in flight: after the first attempts, and again later.
            for at_least in (3, 3 + n):
                psim.wait_for_attempts(at_least, timeout=30)
                pid = _until(lambda: eng.server.dispatcher.sender_pid, "a sender process")
                os.kill(int(pid), signal.SIGKILL)  # type: ignore[call-overload]
                kills.append(int(pid))  # type: ignore[call-overload]

        t = threading.Thread(target=killer)
        t.start()
        with ThreadPoolExecutor(6) as pool:
            jobs = [pool.submit(stream, k, police.headers, "P") for k in range(n)]
            jobs += [pool.submit(stream, k, fire.headers, "F") for k in range(n)]
            for j in jobs:
                j.result()
        t.join(60)
        assert len(kills) == 2
        psim.set_failure("ok")
        fsim.set_failure("ok")
        total = n * (1 + updates)
        got_p = psim.wait_for(total, timeout=60)
        got_f = fsim.wait_for(total, timeout=60)
        rows = _until(
            lambda: (
                (r := _rows(eng)) and len(r) == 2 * total and all(d.state == "delivered" for d in r) and r
            ),
            "every delivery recorded as delivered",
            timeout=30,
        )
        assert isinstance(rows, list)
        for got, agency in ((got_p, police), (got_f, fire)):
            mine = [d for d in rows if d.agency_id == agency.id]
            assert sorted(e.id for e in got) == sorted(d.id for d in mine)  # each accepted event, once
            by_incident: dict[str | None, list[int | None]] = {}
            for e in got:  # in arrival order
                by_incident.setdefault(e.incident_id, []).append(e.sequence)
            assert all(seqs == list(range(1, 1 + updates + 1)) for seqs in by_incident.values()), by_incident
        assert psim.state.order_violations == 0 and fsim.state.order_violations == 0
        # A re-send after a kill is the same delivery: the same webhook-id (de-duplicated by the simulator).
        attempts = [a.webhook_id for a in psim.attempts()] + [a.webhook_id for a in fsim.attempts()]
        assert set(attempts) == {d.id for d in rows}
        health = eng.server.dispatcher.health()
        assert health["sender"]["restarts"] >= 2 and "SIGKILL" in str(health["sender"]["last_exit"])
        assert eng.server.dispatcher.sender_pid not in kills and eng.server.dispatcher.running
        for pid in kills:
            _until(lambda pid=pid: not _alive(pid), f"killed sender {pid} reaped")


class _Receiver:
    """Counts every request it gets (none may arrive when the guard refuses)."""

    def __init__(self) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.hits += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.srv = HTTPServer(("0.0.0.0", 0), Handler)  # reachable on every address
        self.port = self.srv.server_port
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


def test_the_egress_guard_holds_in_the_sender_process(tmp_path: Path) -> None:
    e = start_engine(tmp_path, outbox={"allow_http": True, "retry_schedule_s": [30.0]})
    receiver = _Receiver()
    try:
        e.add_cameras(grid_cameras())
        metadata = e.add_agency("Metadata", AgencyKind.POLICE)
        _point(e, metadata.id, "http://169.254.169.254/latest/meta-data/")
        # Not an address to Python's parser (so the send-time check lets it through), but the system
        # resolver reads it as 10.9.8.7: refused when the sender's connection resolves and vets it.
        odd = e.add_agency("Odd host", AgencyKind.POLICE)
        _point(e, odd.id, f"http://0xa.9.8.7:{receiver.port}/hook")
        for agency, ext in ((metadata, "G-1"), (odd, "G-2")):
            assert (
                e.http.post("/api/v1/requests", headers=agency.headers, json=request_body(ext)).status_code
                == 201
            )
        _until(lambda: e.server.dispatcher.sender_pid, "the sender process")
        rows = _until(
            lambda: (r := _rows(e)) and len(r) == 2 and all(d.attempts >= 1 for d in r) and r,
            "both attempts recorded",
        )
        assert isinstance(rows, list)
        errors = {d.agency_id: d.last_error or "" for d in rows}
        assert errors[metadata.id].startswith("refused:") and "metadata" in errors[metadata.id]
        assert "refused" in errors[odd.id] and "private address" in errors[odd.id], errors[odd.id]
        assert all(d.state == "retrying" for d in rows)
        assert receiver.hits == 0
    finally:
        receiver.close()
        e.close()


def test_the_sender_stops_with_the_engine(tmp_path: Path) -> None:
    e = start_engine(tmp_path)
    e.add_cameras(grid_cameras())
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    with AgencySimulator(secrets=police.webhook_secret, kind=AgencyKind.POLICE) as sim:
        _point(e, police.id, sim.webhook_url)
        e.http.post("/api/v1/requests", headers=police.headers, json=request_body("S-1"))
        sim.wait_for(1)
        pid = e.server.dispatcher.sender_pid
        assert pid is not None and _alive(pid)
        e.close()
    assert not _alive(pid), "the sender outlived its engine"
    assert e.server.dispatcher.health()["sender"]["state"] == "stopped"

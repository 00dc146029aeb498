"""Intake end to end over HTTP with 10 concurrent clients, against the raw SQLite commit rate of the same rows.

    .venv/bin/python bench/bench_intake.py [--requests 2000] [--clients 10]

The engine runs as its own process (as in production), SQLite in WAL with synchronous=FULL. The reference
writes the same rows one request per transaction with plain ``sqlite3`` and the same pragmas, in this
script, so the ratio does not depend on the machine. Beside it, in the same run, the framework's floor: a
minimal FastAPI endpoint on uvicorn (its own process) that validates a small body, writes one row and
commits. Target (issue 17): p95 <= 40 ms; the rates of both and their ratio are reported.
``--profile FILE`` records the engine with py-spy (collapsed stacks) during the measured run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.clock import SystemClock  # noqa: E402
from app.domain.enums import AgencyKind  # noqa: E402
from app.engine.services.directory import create_agency, upsert_cameras  # noqa: E402
from app.engine.settings import Settings  # noqa: E402
from app.engine.work import UnitOfWorkFactory  # noqa: E402
from app.formats.api import AgencyIn  # noqa: E402
from app.store.database import Database  # noqa: E402
from tests.engine.conftest import ADMIN, JINJU, grid_cameras  # noqa: E402


def raw_sqlite_rate(path: Path, n: int) -> float:
    """The same rows an intake writes (incident, 4 cameras, share, delivery, 3 timeline, 2 audit, 2 live)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript(
        """
        CREATE TABLE inc(id TEXT PRIMARY KEY, service TEXT, status TEXT, title TEXT, priority INT, exercise INT, lat REAL, lon REAL,
          address TEXT, area TEXT, external_id TEXT, agency_id TEXT, source TEXT, details TEXT, units TEXT, created_at TEXT, updated_at TEXT,
          UNIQUE(agency_id, external_id));
        CREATE TABLE ic(incident_id TEXT, camera_id TEXT, role TEXT, rank INT, distance_m REAL, covers INT, PRIMARY KEY(incident_id, camera_id));
        CREATE TABLE sh(id TEXT PRIMARY KEY, incident_id TEXT, agency_id TEXT, token TEXT UNIQUE, camera_ids TEXT, purpose TEXT, created_at TEXT, expires_at TEXT);
        CREATE TABLE dl(id TEXT PRIMARY KEY, agency_id TEXT, incident_id TEXT, event_type TEXT, sequence INT, payload TEXT, state TEXT, created_at TEXT,
          UNIQUE(agency_id, incident_id, sequence));
        CREATE TABLE tl(id INTEGER PRIMARY KEY, incident_id TEXT, at TEXT, kind TEXT, actor TEXT, data TEXT);
        CREATE TABLE au(id INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT, target_type TEXT, target_id TEXT, client TEXT, detail TEXT);
        CREATE TABLE lv(seq INTEGER PRIMARY KEY, at TEXT, type TEXT, data TEXT);
        """
    )
    payload = json.dumps(
        {"incident": {"id": "x", "title": "t" * 40}, "cameras": [{"id": f"CAM-{k}"} for k in range(4)]}
    )
    start = time.perf_counter()
    for i in range(n):
        iid = f"INC-{i}"
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO inc VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                iid,
                "112",
                "new",
                "t",
                3,
                0,
                35.1,
                128.1,
                None,
                None,
                f"E{i}",
                "a",
                "agency:a",
                "{}",
                "[]",
                "now",
                "now",
            ),
        )
        for k in range(4):
            con.execute("INSERT INTO ic VALUES (?,?,?,?,?,?)", (iid, f"CAM-{k}", "nearest", k, 10.0 * k, 0))
        con.execute(
            "INSERT INTO sh VALUES (?,?,?,?,?,?,?,?)",
            (f"S{i}", iid, "a", f"tok{i}", "[]", "p", "now", "later"),
        )
        con.execute(
            "INSERT INTO dl VALUES (?,?,?,?,?,?,?,?)",
            (f"M{i}", "a", iid, "share.created", 1, payload, "pending", "now"),
        )
        for kind in ("created", "cameras.selected", "share.created"):
            con.execute(
                "INSERT INTO tl(incident_id, at, kind, actor, data) VALUES (?,?,?,?,?)",
                (iid, "now", kind, "agency:a", "{}"),
            )
        for action in ("incident.create", "share.create"):
            con.execute(
                "INSERT INTO au(at, actor, action, target_type, target_id, client, detail) VALUES (?,?,?,?,?,?,?)",
                ("now", "a", action, "incident", iid, "127.0.0.1", "{}"),
            )
        for t in ("incident.created", "share.created"):
            con.execute("INSERT INTO lv(at, type, data) VALUES (?,?,?)", ("now", t, "{}"))
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return n / elapsed


class FloorRow(BaseModel):
    external_id: str
    title: str
    lat: float
    lon: float


def floor_server(port: int, path: Path) -> None:
    """The framework's floor: a minimal FastAPI endpoint on uvicorn that validates a small body, writes one
    row and commits (SQLite, WAL, ``synchronous=FULL``), in a process of its own like the engine."""
    import threading

    import uvicorn
    from fastapi import FastAPI

    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS rows(id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, title TEXT, lat REAL, lon REAL)"
    )
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/rows", status_code=201)
    def add(row: FloorRow) -> dict[str, object]:
        with lock:
            cur = con.execute(
                "INSERT INTO rows(external_id, title, lat, lon) VALUES (?,?,?,?)",
                (row.external_id, row.title, row.lat, row.lon),
            )
        return {"id": cur.lastrowid, "external_id": row.external_id}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def agency_simulator(port: int, secret: str, kind: str = "police") -> subprocess.Popen[bytes]:
    """The agency simulator receiving this bench's webhooks on 127.0.0.1:port (signatures checked)."""
    args = ["sim", "agency", "--kind", kind, "--port", str(port), "--secret", secret]
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def prepare(data_dir: Path, endpoint: str) -> tuple[str, str]:
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    with uow(ADMIN) as work:
        # No stream URLs: this bench measures intake, not the relay pre-warming cameras that do not exist.
        upsert_cameras(work, [replace(c, stream_main="", stream_sub="") for c in grid_cameras(n_side=40)])
        # A real receiving agency (the simulator, its own process): deliveries run as they would live.
        created = create_agency(
            work.session,
            AgencyIn(name="bench 112", kind=AgencyKind.POLICE, endpoint=endpoint),
            settings.outbox,
            work.now,
        )
    db.dispose()
    return created.api_key, created.webhook_secret


async def load(
    base: str, key: str, n: int, clients: int, prefix: str, path: str = "/api/v1/requests"
) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(n))
    headers = {"authorization": f"Bearer {key}"} if key else {}

    async def worker(http: httpx.AsyncClient) -> None:
        for i in counter:
            lat, lon = JINJU[0] + (i % 37) * 0.0003, JINJU[1] + (i % 41) * 0.0003
            body: dict[str, object] = (
                {
                    "service": "112-emergency-video",
                    "external_id": f"{prefix}-{i}",
                    "title": f"bench {i}",
                    "location": {"lat": lat, "lon": lon},
                }
                if path == "/api/v1/requests"
                else {"external_id": f"{prefix}-{i}", "title": f"bench {i}", "lat": lat, "lon": lon}
            )
            t0 = time.perf_counter()
            r = await http.post(path, json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code}: {r.text}")

    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=clients)
    ) as http:
        await http.get("/api/v1/health")
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(clients)))
        return latencies, time.perf_counter() - start


def cpu_s(pid: int) -> float:
    """A process's CPU time (user + system) from /proc: a figure a busy machine disturbs less than rates."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sender_pids(engine_pid: int) -> list[int]:
    """The engine's delivery sender process(es): its children running app.engine.outbox.sender."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == engine_pid and b"app.engine.outbox.sender" in cmd:
            found.append(int(entry.name))
    return found


def accepted(agency_port: int) -> int:
    state = httpx.get(f"http://127.0.0.1:{agency_port}/control/state", timeout=10).json()
    return int(state.get("received", state.get("accepted", 0)))


def wait_accepted(agency_port: int, count: int, timeout: float = 120.0) -> float:
    """Seconds until the agency accepted ``count`` deliveries (the outbox drained), or -1 at the deadline."""
    start = time.perf_counter()
    while accepted(agency_port) < count:
        if time.perf_counter() - start > timeout:
            return -1.0
        time.sleep(0.05)
    return time.perf_counter() - start


def py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(pid),
            "-f",
            "raw",
            "-o",
            str(out),
            "-r",
            "200",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def stats(lat: list[float], elapsed: float) -> tuple[float, float, float]:
    lat = sorted(lat)
    return len(lat) / elapsed, statistics.median(lat) * 1000, lat[int(0.95 * len(lat)) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument(
        "--profile", type=Path, help="record the engine with py-spy into this file (collapsed stacks)"
    )
    ap.add_argument(
        "--profile-sender", type=Path, help="record the delivery sender process with py-spy into this file"
    )
    ap.add_argument("--floor-server", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor_server:
        floor_server(int(args.floor_server[0]), Path(args.floor_server[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        raw = raw_sqlite_rate(tmpdir / "raw.db", args.requests)
        # The framework's floor, in its own process, measured just before the engine.
        floor_port = free_port()
        floor = subprocess.Popen(
            [sys.executable, __file__, "--floor-server", str(floor_port), str(tmpdir / "floor.db")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(f"http://127.0.0.1:{floor_port}/health")
            asyncio.run(load(f"http://127.0.0.1:{floor_port}", "", 50, args.clients, "warm", "/rows"))
            fcpu = cpu_s(floor.pid)
            flat, felapsed = asyncio.run(
                load(f"http://127.0.0.1:{floor_port}", "", args.requests, args.clients, "run", "/rows")
            )
            fcpu = cpu_s(floor.pid) - fcpu
        finally:
            floor.terminate()
            floor.wait(15)
        port, agency_port = free_port(), free_port()
        key, secret = prepare(tmpdir / "engine", f"http://127.0.0.1:{agency_port}/webhook")
        agency = agency_simulator(agency_port, secret)
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "engine",
                "--data-dir",
                str(tmpdir / "engine"),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        spies: list[subprocess.Popen[bytes]] = []
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/api/v1/health")
            warm, _ = asyncio.run(load(base, key, 50, args.clients, "warm"))
            del warm
            # The warm-up's deliveries arrived: the sender process (if any) is up, its start-up not counted.
            wait_accepted(agency_port, 50)
            if args.profile:
                spies.append(py_spy(proc.pid, args.profile))
            senders = sender_pids(proc.pid)
            if args.profile_sender and senders:
                spies.append(py_spy(senders[0], args.profile_sender))
            if spies:
                time.sleep(1)  # py-spy attaches
            ecpu, scpu = cpu_s(proc.pid), sum(cpu_s(p) for p in senders)
            lat, elapsed = asyncio.run(load(base, key, args.requests, args.clients, "run"))
            during = accepted(agency_port) - 50
            # CPU counted until every delivery of the run arrived (both sides of the comparison alike).
            drained = wait_accepted(agency_port, 50 + args.requests)
            ecpu = cpu_s(proc.pid) - ecpu
            # A sender that restarted during the run would be missed: counted only if the same ones live.
            scpu = sum(cpu_s(p) for p in senders) - scpu if sender_pids(proc.pid) == senders else float("nan")
        finally:
            for spy in spies:
                spy.send_signal(2)
                spy.wait(30)
            proc.terminate()
            proc.wait(15)
            agency.terminate()
            agency.wait(15)
    rate, p50, p95 = stats(lat, elapsed)
    frate, fp50, fp95 = stats(flat, felapsed)
    print(f"raw SQLite commit rate (same rows, WAL, synchronous=FULL): {raw:8.0f} tx/s")
    print(
        f"framework floor (FastAPI, one row + commit), {args.clients} clients: {frate:8.0f} req/s   p50 {fp50:.1f} ms   p95 {fp95:.1f} ms"
    )
    print(
        f"engine intake over HTTP, {args.clients} clients:          {rate:8.0f} req/s   p50 {p50:.1f} ms   p95 {p95:.1f} ms"
    )
    print(
        f"deliveries the agency accepted during the run: {during} of {args.requests}; the rest within "
        f"{drained:.1f} s after it (CPU below counted until then)"
    )
    print(f"ratio engine / framework floor: {rate / frate:.2f}   engine / raw SQLite: {rate / raw:.3f}")
    e_ms, f_ms = 1000 * ecpu / len(lat), 1000 * fcpu / len(flat)
    print(
        f"CPU per request: engine process {e_ms:.2f} ms, framework floor {f_ms:.2f} ms (ratio {e_ms / f_ms:.1f}); "
        "the webhook's receiver and the clients are not counted"
    )
    if senders:
        s_ms = 1000 * scpu / len(lat)
        print(
            f"CPU per request: delivery sender process {s_ms:.2f} ms (engine + sender {e_ms + s_ms:.2f} ms, "
            f"{len(senders)} process)"
        )
    else:
        print("CPU per request: no delivery sender process (deliveries sent in the engine's process)")
    print(f"p95 target <= 40 ms (issue 17): {'met' if p95 <= 40 else 'NOT met'}")


if __name__ == "__main__":
    main()

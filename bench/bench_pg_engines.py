"""One engine vs two on one PostgreSQL: accepted requests/s, p95 and delivery lag, beside ``pgbench``'s
simple-update rate (``pgbench -N``) on the same cluster, in the same run (before and after the engines).

    .venv/bin/python bench/bench_pg_engines.py [--requests 1500] [--clients 10]

A throwaway cluster of its own (``initdb`` in a temp dir, Unix socket, fsync on, see
tests/engine/pg_cluster.py). Each phase gets a fresh database: ``pgbench -N -c CLIENTS`` for 10 s (the
reference); then one engine process with ``--clients`` closed-loop intake clients; then two engine processes
sharing the database and data dir (the clients split between them). A live receiving agency (the simulator)
takes every webhook; delivery lag is ``delivered_at - created_at`` of the phase's deliveries, read from the
database once all are delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_intake import agency_simulator, cpu_s, free_port, stats  # noqa: E402
from tests.engine.conftest import JINJU  # noqa: E402
from tests.engine.pg_cluster import Cluster  # noqa: E402


def prepare(url: str, data_dir: Path, endpoint: str) -> tuple[str, str]:
    from app.domain.clock import SystemClock
    from app.domain.enums import AgencyKind
    from app.engine.services.directory import create_agency, upsert_cameras
    from app.engine.settings import Settings
    from app.engine.work import UnitOfWorkFactory
    from app.formats.api import AgencyIn
    from app.store.database import Database
    from app.store.sealed import seal_database
    from tests.engine.conftest import ADMIN, grid_cameras

    settings = Settings(data_dir=data_dir, db_url=url)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    db.migrate()
    seal_database(db.write, db.read, data_dir)
    uow = UnitOfWorkFactory(db, SystemClock())
    with uow(ADMIN) as work:
        upsert_cameras(work, [replace(c, stream_main="", stream_sub="") for c in grid_cameras(n_side=40)])
        created = create_agency(
            work.session,
            AgencyIn(name="bench 112", kind=AgencyKind.POLICE, endpoint=endpoint),
            settings.outbox,
            work.now,
        )
    db.dispose()
    return created.api_key, created.webhook_secret


async def load(bases: list[str], key: str, n: int, clients: int, prefix: str) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker(http: httpx.AsyncClient) -> None:
        for i in counter:
            body = {
                "service": "112-emergency-video",
                "external_id": f"{prefix}-{i}",
                "title": f"bench {i}",
                "location": {"lat": JINJU[0] + (i % 37) * 0.0003, "lon": JINJU[1] + (i % 41) * 0.0003},
            }
            t0 = time.perf_counter()
            r = await http.post("/api/v1/requests", json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code}: {r.text}")

    https = [
        httpx.AsyncClient(base_url=b, timeout=30, headers={"authorization": f"Bearer {key}"}) for b in bases
    ]
    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker(https[w % len(https)]) for w in range(clients)))
        return latencies, time.perf_counter() - start
    finally:
        for h in https:
            await h.aclose()


def delivery_lag(plain: str, expected: int) -> tuple[float, float]:
    deadline = time.monotonic() + 60
    with psycopg.connect(plain) as conn:
        while time.monotonic() < deadline:
            done = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()
            if done and done[0] >= expected:
                break
            conn.rollback()
            time.sleep(0.2)
        lags = sorted(
            r[0]
            for r in conn.execute(
                "SELECT EXTRACT(EPOCH FROM delivered_at - created_at) * 1000 FROM deliveries "
                "WHERE state = 'delivered'"
            )
        )
    return float(statistics.median(lags)), float(lags[int(0.95 * len(lags)) - 1])


def pgbench(cluster: Cluster, clients: int, name: str) -> tuple[float, float]:
    """``pgbench -N`` (simple update: three statements and an insert per transaction, one commit) for 10 s."""
    exe = str(cluster.bindir / "pgbench") if (cluster.bindir / "pgbench").exists() else "pgbench"
    cluster.create_database(name)
    common = ["-h", str(cluster.dir), "-U", "postgres"]
    subprocess.run([exe, *common, "-i", "-s", "10", "-q", name], check=True, capture_output=True)
    cpu0 = postgres_cpu_s(cluster)
    out = subprocess.run(
        [exe, *common, "-N", "-c", str(clients), "-j", "2", "-T", "10", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu = postgres_cpu_s(cluster) - cpu0
    m = re.search(r"tps = ([\d.]+)", out)
    t = re.search(r"number of transactions actually processed: (\d+)", out)
    assert m and t, out
    return float(m.group(1)), cpu * 1000 / int(t.group(1))  # tx/s, server CPU ms per transaction


def wait_ready(base: str, timeout: float = 90.0) -> None:
    """Until ``/readyz`` answers 200: migrated, the database answering, the dispatcher running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} was not ready within {timeout:g} s")


def postgres_cpu_s(cluster: Cluster) -> float:
    """CPU time of the cluster's server processes (the postmaster, its children, and the children it has
    reaped, from /proc)."""
    master = int((cluster.dir / "data" / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if pid == master or int(fields[1]) == master:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
            if pid == master:  # + backends that exited (reaped by the postmaster): cutime + cstime
                total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
    return total


def engines_phase(cluster: Cluster, tmp: Path, engines: int, args: argparse.Namespace) -> dict[str, float]:
    url = cluster.create_database(f"engines{engines}")
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    data = tmp / f"data{engines}"
    agency_port = free_port()
    key, secret = prepare(url, data, f"http://127.0.0.1:{agency_port}/webhook")
    agency = agency_simulator(agency_port, secret)
    procs, bases = [], []
    for _ in range(engines):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "main.py"),
                    "engine",
                    "--db",
                    url,
                    "--data-dir",
                    str(data),
                    "--port",
                    str(port),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for b in bases:
            wait_ready(b)
        asyncio.run(load(bases, key, 50, args.clients, "warm"))
        cpu0 = sum(cpu_s(p.pid) for p in procs), postgres_cpu_s(cluster)
        lat, elapsed = asyncio.run(load(bases, key, args.requests, args.clients, "run"))
        lag50, lag95 = delivery_lag(plain, args.requests + 50)
        cpu1 = sum(cpu_s(p.pid) for p in procs), postgres_cpu_s(cluster)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(20)
        agency.terminate()
        agency.wait(15)
    rate, p50, p95 = stats(lat, elapsed)
    return {
        "engines": engines,
        "rate": rate,
        "p50": p50,
        "p95": p95,
        "lag50": lag50,
        "lag95": lag95,
        # CPU per accepted request (intake + its delivery), engines together and the PostgreSQL server.
        "engine_ms": (cpu1[0] - cpu0[0]) * 1000 / args.requests,
        "pg_ms": (cpu1[1] - cpu0[1]) * 1000 / args.requests,
    }


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--clients", type=int, default=10)
    args = ap.parse_args()
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # The reference before and after the engines: the machine is shared, so its drift shows.
            ref_before = pgbench(cluster, args.clients, "pgbench_before")
            one = engines_phase(cluster, Path(tmp), 1, args)
            two = engines_phase(cluster, Path(tmp), 2, args)
            ref_after = pgbench(cluster, args.clients, "pgbench_after")
    finally:
        cluster.destroy()
    ref = (ref_before[0] + ref_after[0]) / 2
    ref_ms = (ref_before[1] + ref_after[1]) / 2
    print(
        f"pgbench -N (simple update), {args.clients} clients, same cluster: {ref:8.0f} tx/s "
        f"(before {ref_before[0]:.0f}, after {ref_after[0]:.0f}); PostgreSQL CPU {ref_ms:.2f} ms per transaction"
    )
    for r in (one, two):
        print(
            f"{int(r['engines'])} engine(s), {args.clients} clients: {r['rate']:6.0f} req/s  p50 {r['p50']:.1f} ms  "
            f"p95 {r['p95']:.1f} ms  delivery lag p50 {r['lag50']:.0f} ms p95 {r['lag95']:.0f} ms  "
            f"(engine / pgbench {r['rate'] / ref:.3f})  CPU per request: engines {r['engine_ms']:.1f} ms, "
            f"PostgreSQL {r['pg_ms']:.1f} ms ({r['pg_ms'] / ref_ms:.1f}× a pgbench transaction)"
        )
    print(f"two engines / one: {two['rate'] / one['rate']:.2f}× the rate, p95 {two['p95'] / one['p95']:.2f}×")


if __name__ == "__main__":
    main()

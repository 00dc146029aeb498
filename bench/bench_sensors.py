"""Sensor readings that open nothing, from 20 gateways, beside intake: readings/s, and intake's p95 alone vs
beside them, in the same run against the same engine.

    .venv/bin/python bench/bench_sensors.py [--seconds 15] [--gateways 20] [--rate 1000] [--clients 10]

The engine runs as its own process on SQLite (WAL, synchronous=FULL) with a live receiving agency (the
simulator). Phase 1: 10 closed-loop intake clients alone. Phase 2: the same clients while 20 gateways post
below-threshold readings open-loop at ``--rate`` readings/s in total, up to 8 requests in flight per
gateway: each reading its own ``POST /api/v1/sensors/events`` (``--batch 1``, the default), or ``--batch N``
readings a ``POST /api/v1/sensors/readings`` (a gateway forwarding what it collected). Target (issue 17): >= 1,000 readings/s
with intake p95 unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_intake import agency_simulator, free_port, prepare, stats, wait_up  # noqa: E402
from tests.engine.conftest import JINJU  # noqa: E402


def add_gateways(data_dir: Path, gateways: int, sensors_each: int) -> list[str]:
    from app.domain.clock import SystemClock
    from app.domain.enums import AgencyKind, SensorKind
    from app.domain.layers import Sensor
    from app.engine.services.directory import create_agency, upsert_sensors
    from app.engine.settings import Settings
    from app.engine.work import UnitOfWorkFactory
    from app.formats.api import AgencyIn
    from app.store.database import Database
    from tests.engine.conftest import ADMIN

    settings = Settings(data_dir=data_dir)
    db = Database(settings.database_url)
    uow = UnitOfWorkFactory(db, SystemClock())
    keys = []
    with uow(ADMIN) as work:
        for g in range(gateways):
            a = create_agency(
                work.session,
                AgencyIn(name=f"gateway {g}", kind=AgencyKind.DISASTER, endpoint="http://127.0.0.1:9/hook"),
                settings.outbox,
                work.now,
            )
            keys.append(a.api_key)
            upsert_sensors(
                work,
                [
                    Sensor(
                        f"W-{g}-{k}", f"river {g}-{k}", JINJU[0], JINJU[1], SensorKind.WATER_LEVEL, 1e9, a.id
                    )
                    for k in range(sensors_each)
                ],
            )
    db.dispose()
    return keys


async def intake(base: str, key: str, seconds: float, clients: int, prefix: str) -> tuple[list[float], float]:
    lat: list[float] = []
    end = time.monotonic() + seconds
    n = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal n
        while time.monotonic() < end:
            i, n = n, n + 1
            body = {
                "service": "112-emergency-video",
                "external_id": f"{prefix}-{i}",
                "title": f"bench {i}",
                "location": {"lat": JINJU[0] + (i % 37) * 0.0003, "lon": JINJU[1] + (i % 41) * 0.0003},
            }
            t0 = time.perf_counter()
            r = await http.post("/api/v1/requests", json=body)
            lat.append(time.perf_counter() - t0)
            r.raise_for_status()

    async with httpx.AsyncClient(
        base_url=base,
        timeout=30,
        headers={"authorization": f"Bearer {key}"},
        limits=httpx.Limits(max_connections=clients),
    ) as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(clients)))
        return lat, time.perf_counter() - start


async def gateways(
    base: str, keys: list[str], seconds: float, rate: float, sensors_each: int, batch: int
) -> tuple[int, int, float]:
    """Open loop: each gateway sends its share of ``rate`` on schedule, ``batch`` readings a request
    (1: ``/sensors/events``, more: ``/sensors/readings``); returns (readings sent, accepted, p95 ms)."""
    per = rate / len(keys) / batch
    lat: list[float] = []
    accepted = 0

    async def gateway(g: int, key: str) -> int:
        nonlocal accepted
        sem = asyncio.Semaphore(8)
        async with httpx.AsyncClient(
            base_url=base,
            timeout=30,
            headers={"authorization": f"Bearer {key}"},
            limits=httpx.Limits(max_connections=8),
        ) as http:

            async def one(i: int) -> None:
                nonlocal accepted
                async with sem:
                    t0 = time.perf_counter()
                    readings = [
                        {"sensor_id": f"W-{g}-{(i * batch + k) % sensors_each}", "value": 1.0 + k % 7}
                        for k in range(batch)
                    ]
                    if batch == 1:
                        r = await http.post("/api/v1/sensors/events", json=readings[0])
                        ok = 1 if r.status_code == 202 else 0
                    else:
                        r = await http.post("/api/v1/sensors/readings", json={"readings": readings})
                        results = r.json()["results"] if r.status_code == 200 else []
                        ok = sum(x["outcome"] == "recorded" for x in results)
                    lat.append(time.perf_counter() - t0)
                    accepted += ok

            start = time.monotonic()
            tasks = []
            i = 0
            while (due := start + i / per) < start + seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                tasks.append(asyncio.create_task(one(i)))
                i += 1
            await asyncio.gather(*tasks)
            return i * batch

    sent = sum(await asyncio.gather(*(gateway(g, k) for g, k in enumerate(keys))))
    lat.sort()
    return sent, accepted, 1000 * lat[int(0.95 * len(lat)) - 1] if lat else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--gateways", type=int, default=20)
    ap.add_argument("--sensors", type=int, default=50, help="sensors per gateway")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1, help="readings per request (1: one POST each)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "engine"
        port, agency_port = free_port(), free_port()
        key, secret = prepare(data, f"http://127.0.0.1:{agency_port}/webhook")
        keys = add_gateways(data, args.gateways, args.sensors)
        agency = agency_simulator(agency_port, secret)
        engine = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "engine", "--data-dir", str(data), "--port", str(port)],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base + "/api/v1/health")
            asyncio.run(intake(base, key, 2, args.clients, "warm"))
            alone, alone_s = asyncio.run(intake(base, key, args.seconds, args.clients, "alone"))

            async def both() -> tuple[tuple[list[float], float], tuple[int, int, float], float]:
                t0 = time.perf_counter()
                i, g = await asyncio.gather(
                    intake(base, key, args.seconds, args.clients, "beside"),
                    gateways(base, keys, args.seconds, args.rate, args.sensors, args.batch),
                )
                return i, g, time.perf_counter() - t0

            (beside, beside_s), (sent, accepted, gw_p95), wall = asyncio.run(both())
        finally:
            engine.terminate()
            engine.wait(15)
            agency.terminate()
            agency.wait(15)
    rate_a, p50_a, p95_a = stats(alone, alone_s)
    rate_b, p50_b, p95_b = stats(beside, beside_s)
    print(
        f"intake alone, {args.clients} clients:          {rate_a:6.0f} req/s  p50 {p50_a:.1f} ms  p95 {p95_a:.1f} ms"
    )
    print(f"intake beside the readings:        {rate_b:6.0f} req/s  p50 {p50_b:.1f} ms  p95 {p95_b:.1f} ms")
    print(
        f"readings from {args.gateways} gateways, {args.batch} a request: {accepted} accepted of {sent} sent in {wall:.1f} s = "
        f"{accepted / wall:.0f} readings/s (offered {args.rate:.0f}/s), reading p95 {gw_p95:.1f} ms"
    )
    print(
        f"intake p95 beside / alone: {p95_b / p95_a:.2f}   readings/s target >= 1000: {'met' if accepted / wall >= 1000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

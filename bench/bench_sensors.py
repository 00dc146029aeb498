"""Sensor readings that open nothing, from 20 gateways, beside intake: readings/s, the engine's CPU per
reading, and intake's p95 alone vs beside them, in the same run against the same engine (issue 17).

    .venv/bin/python bench/bench_sensors.py [--seconds 30] [--rounds 5] [--gateways 20] [--rate 1000] [--batch 50]
                                            [--clients 10] [--profile FILE]

The engine runs as its own process on SQLite (WAL, synchronous=FULL) with a live receiving agency (the
simulator). After a warm-up of both paths, ``--rounds`` rounds (5) of three phases, each phase
``--seconds``/``--rounds`` long (the phases interleave, so a busy machine's drifting load falls on each alike):
1. 10 closed-loop intake clients alone (``POST /api/v1/requests``): rate, p50/p95, engine CPU per request;
2. the readings alone: 20 gateways post below-threshold readings open-loop at ``--rate`` readings/s in
   total, ``--batch`` readings a ``POST /api/v1/sensors/readings`` (1: each reading its own
   ``POST /api/v1/sensors/events``), up to 8 requests in flight per gateway, the gateways' schedules
   spread over the interval (they are not synchronised): readings accepted, engine CPU per reading (the
   phase starts once the engine is quiet, so intake's last webhooks are not counted as the readings');
3. both together: intake's p95 beside the readings against phase 1 (the ratio, pooled and per round),
   readings accepted.
``--profile FILE``: py-spy records the engine (raw stacks) in one more readings-alone phase.

The default batch is 50: at 1,000 readings/s from 20 gateways, each gateway forwards once a second what
its sensors reported in that second (a common gateway set-up; a gateway that forwards every reading on its
own is ``--batch 1``). Target (issue 17): >= 1,000 readings/s with intake p95 unchanged.

CPU is the engine process's (and its children's) user + system time from /proc: on a busy machine rates
and latencies move with the others' load, CPU per request much less. To compare with another commit, run
this same file from a checkout of it (``git archive COMMIT | tar -x -C DIR``, copy the file in) in the
same sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_intake import agency_simulator, cpu_s, free_port, prepare, stats, wait_up  # noqa: E402
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
) -> tuple[int, int, list[float], float]:
    """Open loop: each gateway sends its share of ``rate`` on schedule, ``batch`` readings a request
    (1: ``/sensors/events``, more: ``/sensors/readings``), up to 8 requests in flight; gateway ``g`` of
    ``G`` starts ``g/G`` of a sending interval late (gateways are not synchronised with one another).
    Returns (readings sent, accepted, request latencies in s, seconds until the last answer); the last
    request leaves before ``seconds``."""
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
                    readings = [
                        {"sensor_id": f"W-{g}-{(i * batch + k) % sensors_each}", "value": 1.0 + k % 7}
                        for k in range(batch)
                    ]
                    t0 = time.perf_counter()
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
            for i in range(round(seconds * per)):  # request i of gateway g leaves at (i + g/G) / per
                due = start + (i + g / len(keys)) / per
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            return len(tasks) * batch

    t0 = time.perf_counter()
    sent = sum(await asyncio.gather(*(gateway(g, k) for g, k in enumerate(keys))))
    return sent, accepted, lat, time.perf_counter() - t0


def p95_ms(lat: list[float]) -> float:
    return 1000 * sorted(lat)[int(0.95 * len(lat)) - 1] if lat else 0.0


def cpu_tree(pid: int) -> float:
    """CPU seconds of ``pid`` and its live children (the engine may start helper processes)."""
    total = cpu_s(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == pid:
            total += cpu_s(int(stat.parent.name))
    return total


def quiesce(pid: int, timeout: float = 30.0) -> None:
    """Wait (bounded) until the engine and its children use under 5 % of a core over half a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_tree(pid)
        time.sleep(0.5)
        if cpu_tree(pid) - before < 0.025:
            return


def py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid)),
            *("-f", "raw", "-o", str(out), "-r", "200", "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)  # py-spy attaches
    return spy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30, help="per phase, over all rounds")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gateways", type=int, default=20)
    ap.add_argument("--sensors", type=int, default=50, help="sensors per gateway")
    ap.add_argument("--rate", type=float, default=1000, help="readings/s offered, all gateways together")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument(
        "--batch",
        type=int,
        default=50,
        help="readings per request (1: one POST /sensors/events each); 50 = each gateway forwards once a second",
    )
    ap.add_argument(
        "--profile", type=Path, help="py-spy the engine (raw stacks) in one more readings-alone phase"
    )
    args = ap.parse_args()
    if round(args.seconds / args.rounds * args.rate / args.gateways / args.batch) < 1:
        ap.error("each phase is too short for one request per gateway: more --seconds or fewer --rounds")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "engine"
        port, agency_port = free_port(), free_port()
        key, secret = prepare(data, f"http://127.0.0.1:{agency_port}/webhook")
        keys = add_gateways(data, args.gateways, args.sensors)
        agency = agency_simulator(agency_port, secret)
        # The intake clients alone send more than an agency's default 6,000 requests a minute.
        config = Path(tmp) / "bench.toml"
        config.write_text("[agency_access.limits]\nrequests_per_minute = 1000000\n")
        engine = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "engine",
                "--data-dir",
                str(data),
                "--port",
                str(port),
                "--config",
                str(config),
            ],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        spy = None
        s = args.seconds / args.rounds
        alone: list[float] = []
        beside: list[float] = []
        alone_s = beside_s = cpu_alone = cpu_readings = own_readings = r_wall = wall = 0.0
        r_sent = r_accepted = sent = accepted = 0
        r_lat: list[float] = []
        g_lat: list[float] = []
        ratios: list[float] = []
        try:
            wait_up(base + "/api/v1/health")
            # Warm-up: both paths once (imports, caches, the first batches).
            asyncio.run(intake(base, key, 2, args.clients, "warm"))
            asyncio.run(gateways(base, keys, 2, args.rate, args.sensors, args.batch))

            async def both(
                prefix: str,
            ) -> tuple[tuple[list[float], float], tuple[int, int, list[float], float]]:
                return await asyncio.gather(
                    intake(base, key, s, args.clients, prefix),
                    gateways(base, keys, s, args.rate, args.sensors, args.batch),
                )

            # Rounds of (intake alone, readings alone, both): a busy machine's load drifts, and
            # interleaving the phases puts the same drift into each.
            for r in range(args.rounds):
                c0 = cpu_tree(engine.pid)
                lat_a, el_a = asyncio.run(intake(base, key, s, args.clients, f"alone{r}"))
                c1 = cpu_tree(engine.pid)
                quiesce(engine.pid)  # intake's webhooks still going out would count as the readings' CPU
                own1, c1 = cpu_s(engine.pid), cpu_tree(engine.pid)
                rs, ra, rl, rw = asyncio.run(gateways(base, keys, s, args.rate, args.sensors, args.batch))
                c2 = cpu_tree(engine.pid)
                own_readings += cpu_s(engine.pid) - own1
                (lat_b, el_b), (gs, ga, gl, gw) = asyncio.run(both(f"beside{r}"))
                alone += lat_a
                beside += lat_b
                alone_s, beside_s = alone_s + el_a, beside_s + el_b
                cpu_alone, cpu_readings = cpu_alone + c1 - c0, cpu_readings + c2 - c1
                r_sent, r_accepted, r_wall = r_sent + rs, r_accepted + ra, max(r_wall, rw)
                sent, accepted, wall = sent + gs, accepted + ga, max(wall, gw)
                r_lat += rl
                g_lat += gl
                ratios.append(p95_ms(lat_b) / p95_ms(lat_a))
            if args.profile:  # one more readings-alone phase, recorded, not counted
                spy = py_spy(engine.pid, args.profile)
                asyncio.run(gateways(base, keys, s, args.rate, args.sensors, args.batch))
        finally:
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
            engine.terminate()
            engine.wait(15)
            agency.terminate()
            agency.wait(15)
    rate_a, p50_a, p95_a = stats(alone, alone_s)
    rate_b, p50_b, p95_b = stats(beside, beside_s)
    cpu_intake = cpu_alone / len(alone)
    cpu_reading = cpu_readings / max(1, r_accepted)
    print(f"engine: {ROOT}  ({args.rounds} rounds of {s:.1f} s per phase)")
    print(
        f"intake alone, {args.clients} clients:         {rate_a:6.0f} req/s  p50 {p50_a:.1f} ms  p95 {p95_a:.1f} ms"
        f"  CPU {1000 * cpu_intake:.2f} ms/request"
    )
    print(
        f"readings alone, {args.gateways} gateways, {args.batch} a request: {r_accepted} accepted of {r_sent} "
        f"= {r_accepted / args.seconds:.0f}/s, request p95 {p95_ms(r_lat):.1f} ms (max "
        f"{1000 * max(r_lat, default=0):.0f} ms), CPU {1e6 * cpu_reading:.0f} us/reading "
        f"({100 * cpu_readings / args.seconds:.0f} % of a core); the engine process alone "
        f"{1e6 * own_readings / max(1, r_accepted):.0f} us (the rest: its children, e.g. the webhook sender "
        "finishing intake's deliveries)"
    )
    print(f"intake beside the readings:       {rate_b:6.0f} req/s  p50 {p50_b:.1f} ms  p95 {p95_b:.1f} ms")
    print(
        f"readings beside intake: {accepted} accepted of {sent} = {accepted / args.seconds:.0f}/s (offered "
        f"{args.rate:.0f}/s), request p95 {p95_ms(g_lat):.1f} ms (max {1000 * max(g_lat, default=0):.0f} ms)"
    )
    # Kept up: everything offered accepted, and answered on the whole well inside the sending interval.
    kept_up = accepted == sent and sent / args.seconds >= 1000 and p95_ms(g_lat) < 1000
    print(
        f"intake p95 beside / alone: {p95_b / p95_a:.2f} pooled, {statistics.median(ratios):.2f} median of the "
        f"rounds ({', '.join(f'{x:.2f}' for x in ratios)})   >= 1,000 readings/s all accepted, p95 < 1 s: "
        f"{'met' if kept_up else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

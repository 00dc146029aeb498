"""Intake p95 with 10 clients, alone and during a flood of 50 wrong logins a second from one address,
in the same run against the same engine process (the reference is the run without the flood).

    .venv/bin/python bench/bench_login_flood.py [--requests 1500] [--clients 10] [--rate 50]

Two engines are measured one after the other: with the default settings (the address is throttled after 5
failures, so most of the flood is answered 429 without hashing), and with throttling effectively off (every
wrong login reaches argon2id on the login pool: 1 thread, 8 waiting, the rest 429 at once), which shows
that the pool, not the throttle alone, keeps intake safe. Target: flood p95 within 20 % of alone p95.
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
sys.path.insert(0, str(ROOT / "bench"))

from bench_intake import free_port, load, prepare  # noqa: E402

from app.domain.clock import SystemClock  # noqa: E402
from app.domain.enums import Role  # noqa: E402
from app.engine.services.directory import add_user  # noqa: E402
from app.engine.settings import Settings  # noqa: E402
from app.engine.work import UnitOfWorkFactory  # noqa: E402
from app.store.database import Database  # noqa: E402
from tests.engine.conftest import ADMIN  # noqa: E402


def add_operator(data_dir: Path) -> None:
    db = Database(Settings(data_dir=data_dir).database_url)
    with UnitOfWorkFactory(db, SystemClock())(ADMIN) as work:
        add_user(work.session, "op", Role.OPERATOR, "the-right-password", work.now)
    db.dispose()


async def flood(base: str, rate: float, stop: asyncio.Event) -> dict[int, int]:
    """Wrong logins for one user from one address, open loop at ``rate`` a second, until ``stop``."""
    counts: dict[int, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=64)) as http:

        async def one(i: int) -> None:
            try:
                r = await http.post("/api/v1/sessions", json={"username": "op", "password": f"guess-{i}"})
                counts[r.status_code] = counts.get(r.status_code, 0) + 1
            except httpx.HTTPError:
                counts[0] = counts.get(0, 0) + 1

        start = time.perf_counter()
        i = 0
        while not stop.is_set():
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            t = asyncio.create_task(one(i))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
    return counts


async def intake_during_flood(
    base: str, key: str, n: int, clients: int, rate: float, prefix: str
) -> tuple[list[float], dict[int, int]]:
    stop = asyncio.Event()
    flooding = asyncio.create_task(flood(base, rate, stop))
    await asyncio.sleep(1.0)  # the flood is at full rate before intake starts
    lat, _ = await load(base, key, n, clients, prefix)
    stop.set()
    return lat, await flooding


def p95(lat: list[float]) -> float:
    s = sorted(lat)
    return s[int(0.95 * len(s)) - 1] * 1000


def run_engine(tmpdir: Path, name: str, config: str | None, args: argparse.Namespace) -> dict[str, object]:
    data = tmpdir / name
    port, agency_port = free_port(), free_port()
    key, secret = prepare(data, f"http://127.0.0.1:{agency_port}/webhook")
    add_operator(data)
    cmd = [sys.executable, str(ROOT / "main.py"), "engine", "--data-dir", str(data), "--port", str(port)]
    if config:
        (tmpdir / f"{name}.toml").write_text(config)
        cmd += ["--config", str(tmpdir / f"{name}.toml")]
    agency = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "sim",
            "agency",
            "--kind",
            "police",
            "--port",
            str(agency_port),
            "--secret",
            secret,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(load(base, key, 50, args.clients, "warm"))
        alone, _ = asyncio.run(load(base, key, args.requests, args.clients, "alone"))
        during, counts = asyncio.run(
            intake_during_flood(base, key, args.requests, args.clients, args.rate, "flood")
        )
        alone2, _ = asyncio.run(load(base, key, args.requests, args.clients, "alone2"))
        ok = httpx.post(base + "/api/v1/sessions", json={"username": "op", "password": "the-right-password"})
    finally:
        proc.terminate()
        proc.wait(15)
        agency.terminate()
        agency.wait(15)
    return {
        "alone": alone,
        "during": during,
        "alone2": alone2,
        "counts": counts,
        "login_after": ok.status_code,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--rate", type=float, default=50.0, help="wrong logins a second, from one address")
    args = ap.parse_args()
    variants = {
        "default (throttled)": None,
        "throttle off (pool only)": "[security]\nthrottle_free_failures = 100\nthrottle_base_s = 0.001\n"
        "throttle_max_s = 0.001\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, config) in enumerate(variants.items()):
            r = run_engine(Path(tmp), f"engine{i}", config, args)
            alone = [*r["alone"], *r["alone2"]]  # type: ignore[misc]
            a, d = p95(alone), p95(r["during"])  # type: ignore[arg-type]
            print(f"[{label}]")
            print(
                f"  intake alone ({args.clients} clients, {len(alone)} req, before and after): "
                f"p50 {statistics.median(alone) * 1000:.1f} ms  p95 {a:.1f} ms"
            )
            print(
                f"  intake during {args.rate:g} wrong logins/s ({len(r['during'])} req):             "  # type: ignore[arg-type]
                f"p50 {statistics.median(r['during']) * 1000:.1f} ms  p95 {d:.1f} ms"  # type: ignore[arg-type]
            )
            print(f"  login answers during the flood: {dict(sorted(r['counts'].items()))}")  # type: ignore[union-attr]
            print(
                f"  right password after the flood: HTTP {r['login_after']} (429 = still throttled, by design)"
            )
            print(
                f"  ratio p95 during / alone: {d / a:.2f}  (target <= 1.20: {'met' if d / a <= 1.2 else 'NOT met'})"
            )


if __name__ == "__main__":
    main()

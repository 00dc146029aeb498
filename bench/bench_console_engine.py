"""What connected consoles cost the engine: its CPU with 1 console, then with 10, at 20 incidents/s.

    .venv/bin/python bench/bench_console_engine.py [--seconds 20] [--rate 20] [--consoles 10] [--cameras 5000]
                                                   [--no-deltas]

The engine runs as its own process (``main.py engine``) with ``--cameras`` cameras, an operator, and a live
receiving police agency (the simulator, its own process: every delivery succeeds and is a
``delivery.updated``). The consoles are the console's own data layer — ``ConsoleController`` with its
``EngineClient`` and live feed, on a qasync loop, without widgets — in a process of their own: each logs
in, loads everything once, then follows the live feed as the console does. While this script posts 112
requests open-loop at ``--rate`` per second, the engine's CPU time is read from ``/proc`` over the window.
Phase 1: one console; phase 2: ``--consoles`` consoles; same engine, same rate. Target (issue 17): phase 2
costs less than 10 % more engine CPU than phase 1 (compared per incident posted, which equals the CPU share
while the engine keeps up and stays right when it falls behind).

``--no-deltas`` runs the consoles as they were before issue 17 (each ``delivery.updated`` schedules a
reload of the agencies and all cameras, debounced by 1 s), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_intake import agency_simulator, cpu_s, free_port  # noqa: E402

# ------------------------------------------------------------------ the consoles' process


def consoles_child(url: str, n: int, no_deltas: bool) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.client.engine import EngineClient
    from app.console.controller import ConsoleController

    if no_deltas:  # the console before issue 17: every delivery.updated reloads agencies and cameras
        applied = ConsoleController._on_live_event

        def old_console(self: ConsoleController, event: Any) -> None:
            if event.type in ("delivery.updated", "agency.health"):
                self.events_applied += 1
                self._directory_timer.start()  # debounced 1 s: agencies and every camera
                return
            applied(self, event)

        ConsoleController._on_live_event = old_console  # type: ignore[method-assign]

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main() -> None:
        controllers = []
        for _ in range(n):
            c = ConsoleController(EngineClient(url))
            assert await c.login("operator", "bench-password")
            controllers.append(c)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the controllers have no "loaded" event: poll them
            if all(c.connected and c.health.camera_count > 0 for c in controllers):
                break
            await asyncio.sleep(0.1)
        print(json.dumps({"ready": n}), flush=True)
        # Run until told to stop (stdin closes), then report what the consoles did.
        await loop.run_in_executor(None, sys.stdin.read)
        print(
            json.dumps(
                {
                    "events": sum(c.events_applied for c in controllers),
                    "reloads": sum(c.reloads for c in controllers),
                    "agency_reloads": sum(getattr(c, "agency_reloads", 0) for c in controllers),
                }
            ),
            flush=True,
        )
        for c in controllers:
            await c.aclose()

    with loop:
        loop.run_until_complete(main())
    return 0


# ------------------------------------------------------------------ set-up


def prepare(data_dir: Path, endpoint: str, cameras: int) -> tuple[str, str]:
    from app.domain.clock import SystemClock
    from app.domain.enums import AgencyKind, Role
    from app.engine.services.directory import add_user, create_agency, upsert_cameras
    from app.engine.settings import Settings
    from app.engine.work import UnitOfWorkFactory
    from app.formats.api import AgencyIn
    from app.store.database import Database
    from tests.engine.conftest import ADMIN, grid_cameras

    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    side = max(1, int(cameras**0.5))
    with uow(ADMIN) as work:
        upsert_cameras(work, [replace(c, stream_main="", stream_sub="") for c in grid_cameras(n_side=side)])
        add_user(work.session, "operator", Role.OPERATOR, "bench-password", work.now)
        created = create_agency(
            work.session,
            AgencyIn(name="bench 112", kind=AgencyKind.POLICE, endpoint=endpoint),
            settings.outbox,
            work.now,
        )
    db.dispose()
    return created.api_key, created.webhook_secret


async def post_open_loop(base: str, key: str, seconds: float, rate: float, prefix: str) -> tuple[int, float]:
    """Requests leave on schedule (open loop), up to 16 in flight; returns (posted, p95 ms)."""
    from tests.engine.conftest import JINJU

    lat: list[float] = []
    sem = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers={"authorization": f"Bearer {key}"}
    ) as http:

        async def one(i: int) -> None:
            async with sem:
                t0 = time.perf_counter()
                r = await http.post(
                    "/api/v1/requests",
                    json={
                        "service": "112-dispatch",
                        "external_id": f"{prefix}-{i}",
                        "title": f"bench {i}",
                        "location": {
                            "lat": JINJU[0] + (i % 37) * 0.0003,
                            "lon": JINJU[1] + (i % 41) * 0.0003,
                        },
                        "priority": 1 + i % 5,
                    },
                )
                lat.append(time.perf_counter() - t0)
                r.raise_for_status()

        start = time.monotonic()
        tasks = []
        n = int(seconds * rate)
        for i in range(n):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    lat.sort()
    return n, 1000 * lat[int(0.95 * len(lat)) - 1]


def phase(base: str, key: str, engine_pid: int, consoles: int, args: argparse.Namespace) -> dict[str, float]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", base, str(consoles)]
        + (["--no-deltas"] if args.no_deltas else []),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    json.loads(child.stdout.readline())  # ready: logged in, loaded, following the feed
    time.sleep(2)  # let the initial loads' work settle before the window opens
    c0, t0 = cpu_s(engine_pid), time.monotonic()
    posted, p95 = asyncio.run(
        post_open_loop(base, key, args.seconds, args.rate, f"c{consoles}-{time.time_ns()}")
    )
    cpu, wall = cpu_s(engine_pid) - c0, time.monotonic() - t0
    child.stdin.close()
    done = json.loads(child.stdout.readline())
    child.wait(30)
    return {
        "consoles": consoles,
        "posted": posted,
        "engine_cpu_s": cpu,
        "wall_s": wall,
        "cpu_share": cpu / wall,
        "post_p95_ms": p95,
        **done,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--consoles", type=int, default=10)
    ap.add_argument("--cameras", type=int, default=5000)
    ap.add_argument("--no-deltas", action="store_true")
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        sys.exit(consoles_child(args.child[0], int(args.child[1]), args.no_deltas))
    with tempfile.TemporaryDirectory() as tmp:
        port, agency_port = free_port(), free_port()
        key, secret = prepare(Path(tmp) / "engine", f"http://127.0.0.1:{agency_port}/webhook", args.cameras)
        agency = agency_simulator(agency_port, secret)
        engine = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "engine",
                "--data-dir",
                str(Path(tmp) / "engine"),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            one = phase(base, key, engine.pid, 1, args)
            many = phase(base, key, engine.pid, args.consoles, args)
        finally:
            engine.terminate()
            engine.wait(15)
            agency.terminate()
            agency.wait(15)
    for r in (one, many):
        print(
            f"{r['consoles']:3d} console(s): engine CPU {r['engine_cpu_s']:.2f} s over {r['wall_s']:.1f} s "
            f"({100 * r['cpu_share']:.1f} % of a core; {1000 * r['engine_cpu_s'] / r['posted']:.1f} ms per incident), {r['posted']} requests, post p95 {r['post_p95_ms']:.1f} ms; "
            f"consoles applied {r['events']} events, {r['reloads']} full reloads, {r['agency_reloads']} agency reloads"
        )
    # Engine CPU per incident posted: the same as the ratio of CPU shares while the engine keeps up, and
    # still right when it falls behind (a saturated engine's share cannot grow, its work per incident can).
    ratio = (many["engine_cpu_s"] / many["posted"]) / (one["engine_cpu_s"] / one["posted"])
    print(
        f"engine CPU per incident, {args.consoles} consoles / 1 console: {ratio:.3f} "
        f"(target < 1.10: {'met' if ratio < 1.10 else 'NOT met'}){'  [--no-deltas]' if args.no_deltas else ''}"
    )


if __name__ == "__main__":
    main()

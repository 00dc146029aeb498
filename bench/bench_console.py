"""Operator console benchmark: event-loop stalls under load, memory with 16 tiles, CPU per tile vs ffmpeg.

    xvfb-run -s "-screen 0 1920x1080x24" .venv/bin/python bench/bench_console.py [--seconds 20] [--rate 20]

(Without ``DISPLAY`` it re-runs itself under ``xvfb-run``.) The engine runs in a child process (so its
CPU and GIL do not count against the console) with 400 cameras, an operator and a police agency; the
child also plays the agency, posting 112 requests at ``--rate`` per second when told. Video comes from
local live MPEG-TS servers looping the camera simulator's clips (640×360 sub-streams, 15 fps), so the
figures are the console's own (the media relay is benchmarked by bench/bench_relay.py).

1. Stall: a 5 ms ``QTimer`` records the gaps between its ticks while 16 tiles play and incidents arrive
   (each one: queue, table, map marker, cue). Targets: longest gap < 50 ms, p99 < 16 ms.
2. Memory: RSS of the console process and PSS of it plus its children (QtWebEngine) with 16 tiles.
3. CPU per tile: the console's CPU (process and children, from /proc) over the window, divided by 16,
   against 16 ``ffmpeg -i URL -f null -`` decoding the same streams over the same time (the reference).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TILES = 16
TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ engine child (also the agency)


def engine_child(data_dir: Path) -> int:
    import httpx

    from app.domain.enums import AgencyKind, Role
    from app.engine.auth import Principal
    from app.engine.server import EngineServer
    from app.engine.services.directory import add_user, create_agency, upsert_cameras
    from app.engine.settings import Settings
    from app.formats.api import AgencyIn
    from app.sim.city import build_city

    city = build_city(cameras=400)
    server = EngineServer(Settings(data_dir=data_dir, port=0))
    url = server.start_in_thread()
    system = Principal(kind="system", id="bench", name="bench")
    with server.uow(system) as work:
        add_user(work.session, "operator", Role.OPERATOR, "goldentime", work.now)
        key = create_agency(
            work.session,
            AgencyIn(name="112", kind=AgencyKind.POLICE, endpoint="http://127.0.0.1:9/hook"),
            server.settings.outbox,
            work.now,
        ).api_key
    with server.uow(system) as work:
        upsert_cameras(work, city.cameras)
    server.ctx.cameras.refresh(force=True)
    cams = [{"id": c.id, "name": c.name, "lat": c.lat, "lon": c.lon} for c in city.cameras]
    # The video servers live here too: their pacing threads must not share the console's GIL.
    from app.sim.cameras import default_cache_dir

    sys.path.insert(0, str(ROOT / "tests" / "video"))
    from video_ts_server import LiveTsServer

    servers = [LiveTsServer(p) for p in clips([c["name"] for c in cams[:TILES]], default_cache_dir())]
    for srv in servers:
        srv.start()
    ports = {c["id"]: servers[i].port for i, c in enumerate(cams[:TILES])}
    print(json.dumps({"url": url, "cameras": cams, "ports": ports}), flush=True)
    # The agency is an open-loop arrival process: each request leaves at its due time whether or not the
    # one before it has been answered (several 112 rooms do not wait for each other), so the rate holds
    # as long as the engine keeps up on average.
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()

    def post(n: int, due: float) -> float:
        time.sleep(max(0.0, due - time.monotonic()))
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=url, timeout=10, headers={"authorization": f"Bearer {key}"})
        c = cams[(n * 37) % len(cams)]
        t0 = time.monotonic()
        local.http.post(
            "/api/v1/requests",
            json={
                "service": "112-dispatch",
                "external_id": f"B-{n}",
                "title": f"Bench incident {n}",
                "location": {"lat": c["lat"], "lon": c["lon"]},
                "priority": 1 + n % 5,
            },
        ).raise_for_status()
        return time.monotonic() - t0

    n = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for line in sys.stdin:
            cmd, *rest = line.split()
            if cmd != "go":
                break
            count, rate = int(rest[0]), float(rest[1])
            start = time.monotonic()
            futures = [pool.submit(post, n + i, start + i / rate) for i in range(count)]
            latencies = sorted(f.result() for f in futures)
            n += count
            print(
                json.dumps(
                    {
                        "posted": count,
                        "seconds": time.monotonic() - start,
                        "post_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
                        "post_max_ms": round(1000 * latencies[-1], 1),
                    }
                ),
                flush=True,
            )
    for srv in servers:
        srv.stop()
    server.stop()
    return 0


# ------------------------------------------------------------------ measurements from /proc


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for k in kids:
            out.append(int(k))
            todo.append(int(k))
    return out


def cpu_seconds(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / TICKS  # utime, stime


def tree_cpu(pid: int, exclude: set[int]) -> float:
    return sum(cpu_seconds(p) for p in [pid, *descendants(pid)] if p not in exclude)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# ------------------------------------------------------------------ the console under load


def clips(names: list[str], cache: Path) -> list[Path]:
    from app.sim.cameras.clips import ClipSpec, ensure_clip

    out = []
    for k, name in enumerate(names):
        mp4 = ensure_clip(ClipSpec(name, "sub", hue=(k * 47) % 360, seconds=10.0, fps=15), cache)
        ts = mp4.with_suffix(".ts")
        if not ts.exists():
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(mp4), "-c", "copy", "-f", "mpegts", str(ts)],
                check=True,
            )
        out.append(ts)
    return out


def start_engine_child(args: argparse.Namespace, tmp: Path) -> subprocess.Popen[str]:
    # The engine and the video servers stand for a server room: on this one machine they yield the CPU
    # to the console (nice) unless --engine-nice 0 says otherwise.
    return subprocess.Popen(
        [
            "nice",
            "-n",
            str(args.engine_nice),
            sys.executable,
            __file__,
            "--engine-child",
            str(tmp / "engine"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


async def scenario(
    app: Any, args: argparse.Namespace, tmp: Path, result: dict[str, Any], child: subprocess.Popen[str]
) -> None:
    from PySide6.QtCore import Qt, QTimer

    from app.console.bootstrap import Console, ConsoleOptions
    from app.video.tile_model import TileStatus

    assert child.stdout is not None and child.stdin is not None
    info = json.loads(await asyncio.to_thread(child.stdout.readline))
    cams = info["cameras"][:TILES]
    port_of: dict[str, int] = info["ports"]

    def url(camera_id: str, stream: str) -> str:
        return (
            f"http://127.0.0.1:{port_of.get(camera_id, next(iter(port_of.values())))}/{camera_id}-{stream}.ts"
        )

    console = Console(
        ConsoleOptions(
            info["url"],
            username="operator",
            password="goldentime",
            language="ko",
            settings_dir=tmp / "settings",
            media_url_template=url,
            sound=True,
        ),
        app,
    )
    try:
        assert await console.start()
        console.window.setGeometry(0, 0, 1920, 1080)
        c = console.controller
        await until(lambda: c.connected and console.map.is_ready and c.health.camera_count >= 400)
        for key in args.hide or []:
            console.window.docks[key].hide()  # isolate a panel's share of the stalls
        console.wall.put_cameras([cam["id"] for cam in cams])
        tiles = console.wall.visible_tiles()
        t0 = time.monotonic()
        await until(lambda: all(t.status is TileStatus.LIVE for t in tiles), limit_s=90)
        result["tiles_live_s"] = round(time.monotonic() - t0, 2)
        result["backends"] = sorted({str(t.model.backend) for t in tiles})
        await asyncio.sleep(3)  # settle
        me = os.getpid()
        exclude = {child.pid, *descendants(child.pid)}
        gaps: list[float] = []
        last = [time.perf_counter()]
        last_cpu = [time.thread_time()]
        long_gaps: list[tuple[float, float]] = []  # (gap ms, Qt-thread CPU ms within it)

        def tick() -> None:
            now, cpu = time.perf_counter(), time.thread_time()
            gap = now - last[0]
            gaps.append(gap)
            if gap > 0.016:
                long_gaps.append((gap * 1000, (cpu - last_cpu[0]) * 1000))
            last[0], last_cpu[0] = now, cpu

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(5)
        timer.timeout.connect(tick)

        import gc

        gc_pauses: list[float] = []
        gc_start = [0.0]

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                gc_start[0] = time.perf_counter()
            else:
                gc_pauses.append((time.perf_counter() - gc_start[0]) * 1000)

        gc.callbacks.append(on_gc)

        # Where the Qt thread's time goes, per call (ms): table refresh, live event, map batch.
        spans: dict[str, list[float]] = {"table_refresh": [], "live_event": [], "map_batch": []}

        def timed(name: str, fn: Any) -> Any:
            def wrapper(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    spans[name].append((time.perf_counter() - t) * 1000)

            return wrapper

        model = console.queue_panel.model
        model._pending.timeout.disconnect(model.refresh_now)
        model._pending.timeout.connect(timed("table_refresh", model.refresh_now))
        c.feed._on_event = timed("live_event", c.feed._on_event)
        console._map_timer.timeout.disconnect(console._flush_map)
        console._map_timer.timeout.connect(timed("map_batch", console._flush_map))

        # Window 1, video only: the tiles' own cost, and the stalls 16 tiles alone cause.
        q0, qt0 = tree_cpu(me, exclude), time.monotonic()
        timer.start()
        last[0] = time.perf_counter()
        await asyncio.sleep(min(10.0, args.seconds))
        timer.stop()
        quiet_cpu = (tree_cpu(me, exclude) - q0) / (time.monotonic() - qt0)
        result["stall_ms_video_only"] = summarize(gaps)
        gaps.clear()
        cpu0, wall0, self0 = tree_cpu(me, exclude), time.monotonic(), cpu_seconds(me)
        events0 = c.events_applied
        count = int(args.rate * args.seconds)
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        timer.start()
        last[0], last_cpu[0] = time.perf_counter(), time.thread_time()
        long_gaps.clear()
        child.stdin.write(f"go {count} {args.rate}\n")
        child.stdin.flush()
        done = json.loads(await asyncio.to_thread(child.stdout.readline))  # the agency posted them all
        await until(lambda: c.queue.open_count >= count, limit_s=30)
        timer.stop()
        cpu1, wall1, self1 = tree_cpu(me, exclude), time.monotonic(), cpu_seconds(me)
        if prof is not None:
            import pstats

            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        pids = [me, *(p for p in descendants(me) if p not in exclude)]
        result["load"] = {
            "incidents_posted": done["posted"],
            "post_seconds": round(done["seconds"], 2),
            "achieved_rate_per_s": round(done["posted"] / done["seconds"], 1),
            "post_p50_ms": done["post_p50_ms"],
            "post_max_ms": done["post_max_ms"],
            "events_applied": c.events_applied - events0,
            "queue_rows": console.queue_panel.model.rowCount(),
            "live_tiles_at_end": sum(t.status is TileStatus.LIVE for t in tiles),
            "cues": console.cue.played,
        }
        result["stall_ms"] = summarize(gaps)
        busy = sum(c for _, c in long_gaps)
        result["gaps_over_16ms"] = {
            "count": len(long_gaps),
            "total_ms": round(sum(g for g, _ in long_gaps)),
            "qt_thread_cpu_ms_within": round(busy),
            "note": "CPU the Qt thread itself used during those gaps; the rest it waited (for a core, a lock, the X server)",
        }
        gc.callbacks.remove(on_gc)
        result["qt_thread_ms"] = {
            k: {"calls": len(v), "p99": round(sorted(v)[int(len(v) * 0.99)], 2), "max": round(max(v), 2)}
            for k, v in spans.items()
            if v
        }
        result["gc_pauses_ms"] = {"count": len(gc_pauses), "longest": round(max(gc_pauses, default=0.0), 1)}
        result["memory_mb"] = {
            "console_rss": round(rss_mb(me), 1),
            "console_and_children_pss": round(pss_mb(pids), 1),
        }
        console_cpu = (cpu1 - cpu0) / (wall1 - wall0)
        result["cpu"] = {
            "video_only_total_pct": round(100 * quiet_cpu, 1),
            "per_tile_pct": round(100 * quiet_cpu / TILES, 2),
            "under_load_total_pct": round(100 * console_cpu, 1),
            "under_load_console_process_pct": round(100 * (self1 - self0) / (wall1 - wall0), 1),
        }
        urls = [url(cam["id"], "sub") for cam in cams]
    finally:
        await console.stop()
    result["cpu"].update(await asyncio.to_thread(ffmpeg_reference, urls, args.seconds))
    ref = result["cpu"]["ffmpeg_per_stream_pct"]
    result["cpu"]["ratio_vs_ffmpeg"] = round(result["cpu"]["per_tile_pct"] / ref, 2) if ref else None
    child.stdin.close()
    child.wait(30)


def summarize(gaps: list[float]) -> dict[str, Any]:
    stalls = sorted(g * 1000 for g in gaps)
    p99 = stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))]
    return {
        "ticks": len(stalls),
        "longest": round(stalls[-1], 1),
        "p99": round(p99, 1),
        "p50": round(statistics.median(stalls), 1),
        "target": "longest < 50, p99 < 16",
        "ok": stalls[-1] < 50 and p99 < 16,
    }


def ffmpeg_reference(urls: list[str], seconds: float) -> dict[str, Any]:
    """16 ffmpeg decoding the same live streams to null for the same time: CPU per stream."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-v",
                "error",
                "-nostdin",
                "-threads",
                "1",
                "-i",
                u,
                "-t",
                str(seconds),
                "-f",
                "null",
                "-",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for u in urls
    ]
    for p in procs:
        p.wait(seconds * 3 + 30)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"ffmpeg_per_stream_pct": round(100 * cpu / wall / len(urls), 2), "ffmpeg_wall_s": round(wall, 1)}


async def until(cond: Any, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark scene did not get ready")
        await asyncio.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=20.0, help="incidents per second")
    ap.add_argument(
        "--hide",
        action="append",
        choices=["map", "queue", "detail", "cameras", "health"],
        help="hide a panel",
    )
    ap.add_argument(
        "--engine-nice", type=int, default=10, help="niceness of the engine child (0: same as the console)"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile the load window (stderr)")
    ap.add_argument("--engine-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine_child:
        return engine_child(args.engine_child)
    if not os.environ.get("DISPLAY"):
        xr = shutil.which("xvfb-run")
        if xr is None:
            raise SystemExit("no DISPLAY and no xvfb-run")
        return subprocess.call(
            [xr, "-a", "-s", "-screen 0 1920x1080x24", sys.executable, __file__, *sys.argv[1:]]
        )
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
    os.environ.setdefault("QT_QUICK_BACKEND", "software")
    from app.console.bootstrap import prepare_qt_environment

    prepare_qt_environment()
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    result: dict[str, Any] = {
        "tiles": TILES,
        "seconds": args.seconds,
        "rate_per_s": args.rate,
        "cores": os.cpu_count(),
        "hidden": args.hide or [],
        "engine_nice": args.engine_nice,
    }
    with tempfile.TemporaryDirectory(prefix="goldentime-bench-console-") as tmp, loop:
        child = start_engine_child(args, Path(tmp))
        loop.run_until_complete(scenario(app, args, Path(tmp), result, child))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench-console"
    sys.exit(main())

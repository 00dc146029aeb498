#!/usr/bin/env python3
"""Regenerate docs/screenshots/console-{ko,en}.png and console-audit-{ko,en}.png from the real console.

    python packaging/screenshots.py [--out docs/screenshots] [--lang ko --lang en]

Starts Xvfb (1920×1080×24) unless ``--display`` is given, then for each language a child process that
runs an engine on 127.0.0.1 with the demo city (``app.sim.city``: districts, 400 cameras, facilities),
four agencies (one of them unreachable, so the health panel has something to show), a set of incidents
of every service and age, and the console logged in as a supervisor (an operator's console plus the
audit trail, grabbed second). Video comes the real way: the camera
simulator (RTSP) → the engine's media relay → the console's tiles; where the simulator cannot run, the
tiles play its loop clips from local live MPEG-TS servers instead. The root window is grabbed with
ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1920, 1080)
# A supervisor: the console of an operator plus the audit trail (grabbed as a second picture).
OPERATOR = ("supervisor", "goldentime")


# ------------------------------------------------------------------ parent: Xvfb and one child per language


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    exe = shutil.which("Xvfb")
    if exe is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    for n in range(91, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    display = f":{n}"
    proc = subprocess.Popen(
        [exe, display, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)
    try:
        yield display
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def parent(args: argparse.Namespace) -> int:
    if shutil.which("import") is None:
        raise SystemExit("ImageMagick's import is not installed (apt-get install imagemagick)")
    args.out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        display = args.display or stack.enter_context(xvfb())
        env = {
            **os.environ,
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "QT_XCB_GL_INTEGRATION": "none",
            "QT_QUICK_BACKEND": "software",
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
        }
        for lang in args.lang or ["ko", "en"]:
            out = args.out / f"console-{lang}.png"
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--lang",
                lang,
                "--out",
                str(out),
            ]
            print(
                f"screenshot {lang} → {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}",
                flush=True,
            )
            subprocess.run(cmd, env=env, check=True, timeout=600, cwd=ROOT)
    return 0


# ------------------------------------------------------------------ child: engine, data, console, grab


class _Ok204:
    """An agency endpoint that accepts every webhook (the screenshots do not need signature checks)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Videos:
    """Live MPEG-TS of the camera simulator's loop clips (sub-stream, the camera's name burnt in), one
    server per camera shown; cameras without their own clip share the first."""

    def __init__(self, cache: Path) -> None:
        sys.path.insert(0, str(ROOT / "tests" / "video"))
        self.cache = cache
        self.servers: dict[str, Any] = {}

    def prepare(self, cameras: list[Any]) -> None:
        from video_ts_server import LiveTsServer  # the pacing server of the video tests

        from app.sim.cameras.clips import ClipSpec, ensure_clip

        for k, cam in enumerate(cameras):
            if cam.id in self.servers:
                continue
            mp4 = ensure_clip(ClipSpec(cam.name, "sub", hue=(k * 47) % 360, seconds=6.0, fps=15), self.cache)
            ts = mp4.with_suffix(".ts")
            if not ts.exists():
                cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(mp4), "-c", "copy", "-f", "mpegts", str(ts)]
                subprocess.run(cmd, check=True)
            server = LiveTsServer(ts)
            server.start()
            self.servers[cam.id] = server

    def url(self, camera_id: str, stream: str) -> str:
        server = self.servers.get(camera_id) or next(iter(self.servers.values()))
        return f"http://127.0.0.1:{server.port}/{camera_id}-{stream}.ts"

    def stop(self) -> None:
        for s in self.servers.values():
            s.stop()


def child(lang: str, out: Path) -> int:
    from app.console.bootstrap import prepare_qt_environment

    prepare_qt_environment()
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="goldentime-shots-") as tmp, loop:
        return int(loop.run_until_complete(_child(app, lang, out, Path(tmp))))


async def _child(app: Any, lang: str, out: Path, tmp: Path) -> int:
    import httpx

    from app.console.bootstrap import Console, ConsoleOptions
    from app.domain.clock import ManualClock
    from app.domain.enums import AgencyKind, Role
    from app.engine.auth import Principal
    from app.engine.server import EngineServer
    from app.engine.services.directory import (
        add_user,
        create_agency,
        upsert_cameras,
        upsert_facilities,
        upsert_sensors,
    )
    from app.engine.settings import Settings
    from app.formats.api import AgencyIn
    from app.sim.cameras import default_cache_dir
    from app.sim.city import generate_city
    from app.video.tile_model import TileStatus

    # Live video the real way when the camera simulator can run (GStreamer under Debian's python3): the
    # engine's relay pulls it and the console plays the relay; else local MPEG-TS servers stand in.
    sim = None
    try:
        from app.sim.cameras import CameraSim

        sim = await asyncio.to_thread(CameraSim(8).start)
    except Exception as exc:
        print(f"camera simulator unavailable ({exc}); tiles play local loop clips instead", flush=True)
    files = generate_city(tmp / "city", cameras=400, live_count=8, rtsp_port=sim.port if sim else 8554)
    city = files.city
    # The engine's clock starts 9 minutes ago so that the queue shows incidents of every age.
    clock = ManualClock(datetime.now(UTC) - timedelta(minutes=9))
    server = EngineServer(Settings(data_dir=tmp / "engine", port=0), clock=clock)
    url = server.start_in_thread()
    sink = _Ok204()
    system = Principal(kind="system", id="screenshots", name="screenshots")
    keys: dict[str, str] = {}
    with server.uow(system) as work:
        add_user(work.session, OPERATOR[0], Role.SUPERVISOR, OPERATOR[1], work.now)
        for name, kind, endpoint in (
            ("112 경찰 상황실" if lang == "ko" else "112 Police situation room", AgencyKind.POLICE, sink.url),
            ("119 소방 상황실" if lang == "ko" else "119 Fire situation room", AgencyKind.FIRE, sink.url),
            (
                "재난안전상황실" if lang == "ko" else "Disaster situation room",
                AgencyKind.DISASTER,
                "http://127.0.0.1:9/down",
            ),
            (
                "사회적약자 보호기관" if lang == "ko" else "Vulnerable-person service",
                AgencyKind.VULNERABLE,
                sink.url,
            ),
        ):
            created = create_agency(
                work.session,
                AgencyIn(name=name, kind=kind, endpoint=endpoint),
                server.settings.outbox,
                work.now,
            )
            keys[kind.value] = created.api_key
    with server.uow(system) as work:
        upsert_cameras(work, city.cameras)
        upsert_facilities(work, city.facilities)
        upsert_sensors(work, city.sensors)
    server.ctx.cameras.refresh(force=True)

    places = [p for p in city.places][:12] or []
    d0 = city.districts[0].centroid
    spots = [(p.lat, p.lon) for p in places] or [d0]
    ko = lang == "ko"
    incidents = [
        ("119-dispatch", 2, "공장 화재, 연기 다량 발생" if ko else "Factory fire, heavy smoke", "fire", 0),
        ("disaster-response", 3, "남강 수위 경보" if ko else "Nam river water level alarm", "disaster", 1),
        ("112-dispatch", 3, "교통사고, 2대 추돌" if ko else "Traffic collision, two cars", "police", 2),
        (
            "vulnerable-sos",
            2,
            "치매 어르신 실종 신고" if ko else "Missing elderly person with dementia",
            "vulnerable",
            3,
        ),
        (
            "112-emergency-video",
            1,
            "편의점 강도, 용의자 도주 중" if ko else "Store robbery, suspect fleeing",
            "police",
            4,
        ),
        ("112-dispatch", 4, "소음 신고" if ko else "Noise complaint", "police", 5),
    ]
    by_id = {cam.id: cam for cam in city.cameras}
    shown: list[Any] = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        for i, (service, prio, title, who, spot) in enumerate(incidents):
            lat, lon = spots[spot % len(spots)]
            body = {
                "service": service,
                "external_id": f"SHOT-{i}",
                "title": title,
                "location": {
                    "lat": lat,
                    "lon": lon,
                    "address": places[spot % len(places)].name if places else None,
                },
                "priority": prio,
                "exercise": i == 5,
            }
            r = await http.post(
                "/api/v1/requests", json=body, headers={"authorization": f"Bearer {keys[who]}"}
            )
            r.raise_for_status()
            if prio == 1:
                shown = [by_id[c["id"]] for c in r.json()["cameras"] if c["id"] in by_id][:9]
            clock.advance(70)
        clock.advance(60)

        videos = _Videos(default_cache_dir())
        if sim is None:
            await asyncio.to_thread(videos.prepare, shown or list(city.cameras[:4]))
        console = Console(
            ConsoleOptions(
                url,
                username=OPERATOR[0],
                password=OPERATOR[1],
                language=lang,
                settings_dir=tmp / "settings",
                media_url_template=None if sim else videos.url,
                districts_geojson=files.districts_geojson,
                sound=False,
                zoom=14,
            ),
            app,
        )
        try:
            assert await console.start()
            w = console.window
            w.setGeometry(0, 0, *SIZE)
            c = console.controller
            await _until(lambda: c.connected and c.queue.open_count >= 5 and console.map.is_ready)
            top = c.queue.rows[0].id
            console.queue_panel.select(top)
            await _until(lambda: c.detail.incident_id == top)
            cams = c.detail.camera_ids()
            console.wall.put_cameras(cams[:9] if len(cams) >= 4 else cams)
            tiles = [
                t for t, cid in zip(console.wall.visible_tiles(), console.wall.vm.tiles, strict=False) if cid
            ]
            await _until(lambda: all(t.status is TileStatus.LIVE for t in tiles), limit_s=60)
            # A new emergency arrives just before the grab: the queue flashes.
            lat, lon = spots[7 % len(spots)]
            clock.advance(5)
            r = await http.post(
                "/api/v1/requests",
                json={
                    "service": "vulnerable-sos",
                    "external_id": "SHOT-NEW",
                    "title": "어린이 안심벨 호출" if ko else "Child safety bell pressed",
                    "location": {"lat": lat, "lon": lon},
                    "priority": 1,
                },
                headers={"authorization": f"Bearer {keys['vulnerable']}"},
            )
            r.raise_for_status()
            await _until(lambda: console.queue_panel.flash.isVisible())
            console.detail_panel.tabs.setCurrentIndex(2)  # shares, with their countdowns
            await asyncio.sleep(2.5)  # map fly-to animation, tiles settle, refresh coalescing
            out.parent.mkdir(parents=True, exist_ok=True)
            await _grab(out)
            # The audit trail, floated over the console: who watched, shared and read what.
            audit = console.audit_panel
            dock = w.docks["audit"]
            dock.setFloating(True)
            dock.setGeometry(160, 120, 1600, 820)
            dock.show()
            dock.raise_()
            audit.searchRequested.emit(audit.query())
            await _until(lambda: audit.table.rowCount() > 10)
            await asyncio.sleep(1.0)
            await _grab(out.with_name(out.name.replace("console-", "console-audit-")))
        finally:
            await console.stop()
            videos.stop()
            if sim is not None:
                await asyncio.to_thread(sim.stop)
    sink.close()
    server.stop()
    return 0


async def _grab(path: Path) -> None:
    await asyncio.to_thread(
        subprocess.run,
        ["import", "-window", "root", "-display", os.environ["DISPLAY"], str(path)],
        check=True,
    )


async def _until(cond: Any, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("screenshot scene did not get ready")
        await asyncio.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--lang", action="append", choices=["ko", "en"])
    ap.add_argument("--display", help="use this X display instead of starting Xvfb")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.lang[0], args.out)
    return parent(args)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

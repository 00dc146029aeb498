#!/usr/bin/env python3
"""Regenerate docs/screenshots/wall.png and wall-takeover.png from a real wall display process.

    python packaging/wall_screenshots.py [--out docs/screenshots] [--lang ko]

Starts Xvfb (1920×1080×24), four simulated RTSP cameras (``app.sim.cameras``), an engine process on a
throwaway data dir (cameras, the wall's account, an operator, a 112 agency), and the wall display
(``python -m app.console.wall``) fullscreen on it. Then, as a console would: a 2×2 layout of the four
cameras → ``wall.png`` once every tile is live; a 112 request and an incident takeover (its cameras and the
map) → ``wall-takeover.png``. The wall's status file tells when each state is on screen; the root window is
grabbed with ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZE = (1920, 1080)
OPERATOR = ("operator", "operator-screens-1")
SCENE = (35.1905, 128.0843)  # Jinju central market
NAMES = ["중앙시장 정문", "중앙시장 북측 골목", "대안동 교차로", "진주교 남단"]


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    exe = shutil.which("Xvfb")
    if exe is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    n = next(
        n
        for n in range(91, 160)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    proc = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 10, "Xvfb")
        yield f":{n}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data_dir: Path, sim: Any) -> tuple[list[str], str]:
    from app.domain.camera import Camera
    from app.domain.clock import SystemClock
    from app.domain.enums import AgencyKind, Purpose, Role
    from app.engine.auth import Principal
    from app.engine.services.directory import add_user, create_agency, upsert_cameras
    from app.engine.services.wall_keys import add_wall_key
    from app.engine.settings import Settings
    from app.engine.work import UnitOfWorkFactory
    from app.formats.api import AgencyIn
    from app.store.database import Database

    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    offsets = [(0.0002, -0.0002), (0.0004, 0.0001), (-0.0002, 0.0003), (-0.0003, -0.0003)]
    cams = [
        Camera(
            id=f"JJ-CCTV-{c.index:03d}",
            name=NAMES[i % len(NAMES)],
            lat=SCENE[0] + offsets[i % 4][0],
            lon=SCENE[1] + offsets[i % 4][1],
            purpose=Purpose.CRIME,
            direction_deg=(90 * i + 45) % 360,
            fov_deg=70,
            stream_main=c.main_url,
            stream_sub=c.sub_url,
        )
        for i, c in enumerate(sim.cameras)
    ]
    admin = Principal(kind="system", id="screens", name="screens")
    try:
        with uow(admin) as work:
            upsert_cameras(work, cams)
            wall_key = add_wall_key(work.session, "WALL-1", work.now)
            (data_dir / "wall.key").write_text(wall_key + "\n", encoding="utf-8")
            add_user(work.session, OPERATOR[0], Role.OPERATOR, OPERATOR[1], work.now)
            police = create_agency(
                work.session,
                AgencyIn(
                    name="경남경찰청 112 상황실", kind=AgencyKind.POLICE, endpoint="http://127.0.0.1:9/hook"
                ),
                settings.outbox,
                work.now,
            )
    finally:
        db.dispose()
    return [c.id for c in cams], police.api_key


def grab(display: str, path: Path) -> None:
    subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True)
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--lang", default="ko", choices=["ko", "en"])
    args = ap.parse_args(argv)
    if shutil.which("import") is None:
        raise SystemExit("ImageMagick's import is not installed")
    from app.sim.cameras import CameraSim

    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="goldentime-wall-shots-") as tmp,
        xvfb() as display,
        CameraSim(4) as sim,
    ):
        work = Path(tmp)
        cams, api_key = prepare(work / "engine", sim)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
        engine = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "engine",
                "--data-dir",
                str(work / "engine"),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        status_path = work / "wall-status.json"
        from app.sim.city import generate_city

        city = generate_city(work / "city").out_dir  # the takeover map draws the demo city's streets
        wall = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.console.wall",
                "--engine",
                url,
                "--wall",
                "WALL-1",
                "--key-file",
                str(work / "engine" / "wall.key"),
                "--language",
                args.lang,
            ],
            cwd=ROOT,
            env={
                **env,
                "GOLDENTIME_WALL_STATUS": str(status_path),
                "GOLDENTIME_WALL_MAP_CITY": str(city),
                "QTWEBENGINE_DISABLE_SANDBOX": "1",
                "QT_XCB_GL_INTEGRATION": "none",
                "QT_QUICK_BACKEND": "software",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def status() -> dict[str, Any]:
            try:
                out: dict[str, Any] = json.loads(status_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return out

        def all_live() -> bool:
            cells = [c for c in status().get("cells", []) if c.get("camera_id")]
            return bool(cells) and all(c.get("tile") == "live" for c in cells)

        try:
            with httpx.Client(base_url=url, timeout=10) as http:
                wait(lambda: _ok(http), 30, "the engine")
                wait(lambda: status().get("link") == "connected", 60, "the wall to connect")
                token = http.post(
                    "/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]}
                ).json()["token"]
                op = {"authorization": f"Bearer {token}"}
                name = "종합상황실 영상벽 1" if args.lang == "ko" else "Situation room wall 1"
                r = http.put(
                    "/api/v1/walls/WALL-1",
                    headers=op,
                    json={"name": name, "layout": {"grid": 4, "tiles": cams[:4]}},
                )
                r.raise_for_status()
                wait(
                    lambda: (
                        len([c for c in status().get("cells", []) if c.get("camera_id")]) == 4 and all_live()
                    ),
                    60,
                    "four live tiles",
                )
                time.sleep(2.0)  # a few frames on every tile
                grab(display, args.out / "wall.png")

                title = (
                    "중앙시장 폭행 신고 – 용의자 도주 중"
                    if args.lang == "ko"
                    else "Assault at the central market – suspect fleeing"
                )
                req = {
                    "service": "112-emergency-video",
                    "external_id": "112-2026-001234",
                    "title": title,
                    "location": {"lat": SCENE[0], "lon": SCENE[1], "address": "진주시 중앙시장"},
                    "priority": 1,
                }
                r = http.post("/api/v1/requests", headers={"authorization": f"Bearer {api_key}"}, json=req)
                r.raise_for_status()
                incident = r.json()["incident"]["id"]
                r = http.post("/api/v1/walls/WALL-1/takeover", headers=op, json={"incident_id": incident})
                r.raise_for_status()
                wait(
                    lambda: status().get("mode") == "incident" and status().get("map_ready") and all_live(),
                    180,  # a busy machine: the wall's map page and four players start together
                    "the takeover",
                )
                time.sleep(3.0)  # the map flies to the scene; tiles settle
                grab(display, args.out / "wall-takeover.png")
        finally:
            wall.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                wall.wait(20)
            engine.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                engine.wait(20)
    return 0


def _ok(http: httpx.Client) -> bool:
    try:
        return http.get("/api/v1/health").status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())

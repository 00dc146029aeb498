"""End to end: a real engine process and a real wall display process (under Xvfb), with real video from the
camera simulator through the engine's media relay.

The wall writes what it shows to a status file (``GOLDENTIME_WALL_STATUS``); the test waits on that file with
deadlines. It checks: a wall with no layout waits calmly and creates nothing; a layout PUT by a console is
followed live and its cameras play; the engine is SIGKILLed (the wall says so and keeps its layout), a layout
is changed behind the wall's back (straight in the database, so no live event exists for it), the engine
restarts on the same data dir and port, and the wall picks the change up by re-reading its layout, then
follows the next PUT live, all without restarting; SIGTERM ends the wall cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.camera import Camera
from app.domain.clock import SystemClock
from app.domain.enums import Purpose, Role
from app.engine.services.directory import add_user, upsert_cameras
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.store.database import Database
from app.store.models import WallRow
from tests.engine.conftest import ADMIN, JINJU

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = ("op", "operator-password-1")
LIVE_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store(data_dir: Path) -> tuple[Database, UnitOfWorkFactory]:
    db = Database(Settings(data_dir=data_dir).database_url)
    db.migrate()
    return db, UnitOfWorkFactory(db, SystemClock())


def prepare(data_dir: Path, sim: Any) -> list[str]:
    """Cameras (the simulator's), the wall's key (through the CLI) and an operator, written before the engine
    starts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    cams = [
        Camera(
            id=f"SIM-{c.index}",
            name=f"Market {c.index}",
            lat=JINJU[0] + 0.0003 * c.index,
            lon=JINJU[1],
            purpose=Purpose.CRIME,
            stream_main=c.main_url,
            stream_sub=c.sub_url,
        )
        for c in sim.cameras
    ]
    db, uow = store(data_dir)
    try:
        with uow(ADMIN) as work:
            upsert_cameras(work, cams)
            add_user(work.session, OPERATOR[0], Role.OPERATOR, OPERATOR[1], work.now)
    finally:
        db.dispose()
    # The wall PC gets a wall key, not an operator account: `python main.py walls add WALL-1 --key-file F`.
    made = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "walls",
            "add",
            "WALL-1",
            "--key-file",
            str(data_dir / "wall.key"),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert (data_dir / "wall.key").stat().st_mode & 0o777 == 0o600
    return [c.id for c in cams]


class EngineProcess:
    """``python main.py engine --data-dir D --port P`` as a child process."""

    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir, self.port, self.log = data_dir, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "main.py"),
                    "engine",
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"engine exited: {tail(self.log)}"
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"engine did not come up: {tail(self.log)}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)
        self.proc = None

    def op_headers(self) -> dict[str, str]:
        r = httpx.post(
            f"{self.url}/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]}, timeout=10
        )
        r.raise_for_status()
        return {"authorization": f"Bearer {r.json()['token']}"}

    def put_layout(self, tiles: list[str | None], grid: int, name: str | None = None) -> None:
        body: dict[str, Any] = {"layout": {"grid": grid, "tiles": tiles}}
        if name:
            body["name"] = name
        r = httpx.put(f"{self.url}/api/v1/walls/WALL-1", headers=self.op_headers(), json=body, timeout=10)
        assert r.status_code == 200, r.text

    def walls(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = httpx.get(
            f"{self.url}/api/v1/walls", headers=self.op_headers(), timeout=10
        ).json()
        return out


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


class WallProcess:
    """``python -m app.console.wall`` (what ``main.py wall`` runs) on the test's Xvfb display."""

    def __init__(self, engine_url: str, tmp: Path, key_file: Path) -> None:
        self.status_path = tmp / "wall-status.json"
        self.log = tmp / "wall.log"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "GOLDENTIME_WALL_STATUS": str(self.status_path),
            "QTWEBENGINE_DISABLE_SANDBOX": "1",
            "QT_XCB_GL_INTEGRATION": "none",
            "QT_QUICK_BACKEND": "software",
        }
        assert env.get("DISPLAY"), "pytest-xvfb provides a display"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.console.wall",
                    "--engine",
                    engine_url,
                    "--wall",
                    "WALL-1",
                    "--key-file",
                    str(key_file),
                    "--language",
                    "en",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def status(self) -> dict[str, Any]:
        try:
            out: dict[str, Any] = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return out

    def wait_for(
        self, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the wall exited ({self.proc.returncode}): {tail(self.log)}"
            status = self.status()
            if status and check(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"wall never showed {what}; last status {status}\n{tail(self.log)}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                return -9
        return int(self.proc.returncode)


def cameras_of(status: dict[str, Any]) -> list[str | None]:
    return [c["camera_id"] for c in status.get("cells", [])]


def all_live(status: dict[str, Any]) -> bool:
    tiles = [c.get("tile") for c in status.get("cells", []) if c["camera_id"]]
    return bool(tiles) and all(t == "live" for t in tiles)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for p in reversed(made):
        if isinstance(p, WallProcess):
            p.stop()
        else:
            p.kill(signal.SIGTERM)


def test_wall_process_follows_its_layout_across_an_engine_restart(
    camera_sim: Any, tmp_path: Path, processes: list[Any]
) -> None:
    data = tmp_path / "engine"
    cams = prepare(data, camera_sim)
    engine = EngineProcess(data, free_port(), tmp_path / "engine.log")
    processes.append(engine)
    engine.start()
    wall = WallProcess(engine.url, tmp_path, data / "wall.key")
    processes.append(wall)

    # No layout yet: a calm waiting state, and the wall creates nothing.
    s = wall.wait_for("the waiting state", lambda s: s["link"] == "connected" and s["waiting"])
    assert s["fullscreen"] and s["geometry"] == [0, 0, 1920, 1080]
    assert engine.walls() == []

    # A console puts three cameras on a 2×2 wall: the wall follows and plays them from the relay.
    engine.put_layout([cams[0], None, cams[1], cams[2]], 4, name="Situation room")
    s = wall.wait_for("the first layout", lambda s: cameras_of(s) == [cams[0], None, cams[1], cams[2]])
    assert s["name"] == "Situation room" and s["grid"] == 4
    wall.wait_for("live video", all_live, LIVE_S)

    # The engine dies: the wall says so discreetly and keeps its layout on screen.
    engine.kill(signal.SIGKILL)
    s = wall.wait_for(
        "the engine-unreachable notice", lambda s: s["link"] == "offline" and s["notice"] == "unreachable"
    )
    assert "unreachable" in s["notice_text"] and cameras_of(s) == [cams[0], None, cams[1], cams[2]]

    # Meanwhile the layout changes where no live event records it (an admin, straight in the database).
    db, uow = store(data)
    try:
        with uow.writing() as session:
            row = session.get(WallRow, "WALL-1")
            assert row is not None
            row.layout = {"grid": 1, "tiles": [cams[2]], "show_map": False, "mode": "normal"}
            row.updated_at = datetime.now(UTC)
    finally:
        db.dispose()

    # The engine comes back on the same data dir and port: the wall reconnects by itself and re-reads its layout.
    pid = wall.proc.pid
    engine.start()
    s = wall.wait_for(
        "the layout re-read after the restart",
        lambda s: s["link"] == "connected" and cameras_of(s) == [cams[2]],
        60,
    )
    assert s["notice"] is None and s["grid"] == 1
    wall.wait_for("live video after the restart", all_live, LIVE_S)

    # And it follows the next change live, without having been restarted.
    engine.put_layout([cams[1], cams[0]], 9)
    s = wall.wait_for(
        "the layout put after the restart",
        lambda s: cameras_of(s)[:2] == [cams[1], cams[0]] and s["grid"] == 9,
    )
    wall.wait_for("live video on the new layout", all_live, LIVE_S)
    assert wall.proc.pid == pid and wall.proc.poll() is None

    # SIGTERM (systemd stopping the wall PC's service): a clean exit.
    assert wall.stop() == 0
    log = wall.log.read_text(errors="replace")
    assert "Traceback" not in log, tail(wall.log)

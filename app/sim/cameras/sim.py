"""Simulated RTSP/H.264 cameras for the demo and the tests.

:class:`CameraSim` encodes the loop clips once (``clips.py``), then starts the GStreamer RTSP server
(``gst_rtsp_server.py``) under Debian's ``/usr/bin/python3`` and owns that process. Camera ``i``
(1-based) serves ``rtsp://HOST:PORT/cam{i}/main`` (1280×720) and ``.../cam{i}/sub`` (640×360),
H.264 constrained baseline, 15 fps, one IDR per second; a camera listed in ``hevc`` serves H.265 on its
main stream (its sub stream stays H.264, as on real cameras).

Cost: encoding happens once per distinct clip and is cached on disk; at run time a stream costs one
buffer push per frame, shared by every viewer (shared media). ``distinct`` clips (default 16) carry
their own camera's name; camera ``i`` beyond that replays clip ``(i - 1) % distinct`` and so shows
that camera's name (documented trade-off: the first 16 cameras are visibly distinct, any number of
cameras costs no more encoding). The clock burnt in is loop-relative (wraps every ``loop_seconds``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from platformdirs import user_cache_dir

from app.sim.cameras.clips import ClipSpec, ensure_clip

log = logging.getLogger(__name__)
server_log = logging.getLogger("goldentime.sim.gst_rtsp_server")

Stream = Literal["main", "sub"]
FaultAction = Literal["offline", "stall", "online"]

SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
DEFAULT_PYTHON = os.environ.get("GOLDENTIME_SIM_PYTHON", "/usr/bin/python3")
DEFAULT_DISTINCT = 16


def default_cache_dir() -> Path:
    """Where loop clips are kept between runs (``$GOLDENTIME_SIM_CACHE`` overrides)."""
    env = os.environ.get("GOLDENTIME_SIM_CACHE")
    return Path(env) if env else Path(user_cache_dir("goldentime")) / "camera-sim"


@dataclass(frozen=True)
class SimCamera:
    index: int  # 1-based
    name: str
    main_url: str
    sub_url: str


class CameraSimError(RuntimeError):
    """The simulator could not start, or a control command failed."""


class CameraSim:
    """N simulated RTSP cameras served by one owned GStreamer process.

    Use as ``with CameraSim(4) as sim:`` (or ``async with``: start and stop then run in a thread),
    or call :meth:`start` / :meth:`stop`. Fault control: :meth:`offline`, :meth:`stall`,
    :meth:`online` (blocking HTTP calls to the server's control port, a few milliseconds on
    loopback; from async code use ``await asyncio.to_thread(sim.offline, 1)``).
    """

    def __init__(
        self,
        count: int = 4,
        *,
        port: int = 0,
        control_port: int | None = 0,
        cache_dir: Path | None = None,
        names: Sequence[str] | None = None,
        distinct: int = DEFAULT_DISTINCT,
        loop_seconds: float = 10.0,
        fps: int = 15,
        bind: str = "127.0.0.1",
        python: str = DEFAULT_PYTHON,
        ready_timeout: float = 30.0,
        hevc: Sequence[int] = (),
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if names is not None and len(names) < count:
            raise ValueError("names must give a name for every camera")
        self.count = count
        self.hevc = frozenset(hevc)  # cameras (1-based) whose main stream is H.265 (sub stays H.264)
        self.names = [names[i] if names else f"CAM-{i + 1:02d}" for i in range(count)]
        self.distinct = max(1, min(distinct, count))
        self.loop_seconds = loop_seconds
        self.fps = fps
        self.bind = bind
        self.host = "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind
        self.cache_dir = cache_dir or default_cache_dir()
        self.python = python
        self.ready_timeout = ready_timeout
        self._want_port = port
        self._want_control_port = control_port or 0
        self._proc: subprocess.Popen[str] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._threads: list[threading.Thread] = []
        self._stderr_tail: list[str] = []
        self.port = 0
        self.control_port = 0
        self._clips: dict[int, dict[str, Path]] = {}

    # --- lifetime ------------------------------------------------------------------------------------
    def prepare_clips(self) -> list[dict[str, Any]]:
        """Encode (or find in the cache) every clip; return the server's camera list."""
        cameras = []
        for i in range(self.count):
            k = i % self.distinct
            paths = {}
            codecs = {"main": "h265" if i + 1 in self.hevc else "h264", "sub": "h264"}
            for stream in ("main", "sub"):
                spec = ClipSpec(
                    self.names[k if codecs[stream] == "h264" else i],
                    stream,
                    hue=(k * 47) % 360,
                    seconds=self.loop_seconds,
                    fps=self.fps,
                    codec=codecs[stream],
                )
                paths[stream] = str(ensure_clip(spec, self.cache_dir))
            cameras.append({"index": i + 1, "name": self.names[i], **paths, "codecs": codecs})
            self._clips[i + 1] = {stream: Path(path) for stream, path in paths.items()}
        return cameras

    def clip_path(self, i: int, stream: Stream = "main") -> Path:
        """The loop clip camera ``i`` serves (tests compare relayed packets with it)."""
        if not self._clips:
            self.prepare_clips()
        return self._clips[i][stream]

    def start(self) -> CameraSim:
        if self._proc is not None:
            raise CameraSimError("already started")
        if not Path(self.python).exists():
            raise CameraSimError(
                f"{self.python} not found: the simulator needs Debian's python3 with python3-gi"
            )
        config = {
            "bind": self.bind,
            "port": self._want_port,
            "fps": self.fps,
            "cameras": self.prepare_clips(),
        }
        self._tmp = tempfile.TemporaryDirectory(prefix="goldentime-camsim-")
        cfg_path = Path(self._tmp.name) / "config.json"
        cfg_path.write_text(json.dumps(config), encoding="utf-8")
        cmd = [
            self.python,
            str(SERVER_SCRIPT),
            "--config",
            str(cfg_path),
            "--control-port",
            str(self._want_control_port),
        ]
        log.info("starting camera simulator: %d cameras", self.count)
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str | None] = queue.Queue()
        self._spawn(self._pump_stdout, self._proc, lines, name="camsim-stdout")
        self._spawn(self._pump_stderr, self._proc, name="camsim-stderr")
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise CameraSimError(f"camera simulator not ready after {self.ready_timeout} s") from None
            if line is None:
                self.stop()
                raise CameraSimError("camera simulator exited: " + " | ".join(self._stderr_tail[-10:]))
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                if msg.get("event") == "ready":
                    self.port = int(msg["rtsp_port"])
                    self.control_port = int(msg["control_port"])
                    break
        log.info("camera simulator ready: rtsp port %d, control port %d", self.port, self.control_port)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # EOF: the server quits
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> CameraSim:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> CameraSim:
        import asyncio

        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)

    # --- addresses -----------------------------------------------------------------------------------
    def url(self, i: int, stream: Stream = "main") -> str:
        """RTSP URL of camera ``i`` (1-based) and stream ``"main"`` or ``"sub"``."""
        if not 1 <= i <= self.count:
            raise IndexError(f"camera index {i} outside 1..{self.count}")
        if stream not in ("main", "sub"):
            raise ValueError(f"stream must be 'main' or 'sub', not {stream!r}")
        if not self.port:
            raise CameraSimError("not started")
        return f"rtsp://{self.host}:{self.port}/cam{i}/{stream}"

    @property
    def cameras(self) -> list[SimCamera]:
        return [
            SimCamera(i, self.names[i - 1], self.url(i, "main"), self.url(i, "sub"))
            for i in range(1, self.count + 1)
        ]

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    # --- faults --------------------------------------------------------------------------------------
    def offline(self, i: int | Literal["all"]) -> Any:
        """Camera ``i`` goes offline: RTSP connections close, new ones get 404."""
        return self._control(i, "offline")

    def stall(self, i: int | Literal["all"]) -> Any:
        """Camera ``i`` stops sending packets; its RTSP sessions stay open."""
        return self._control(i, "stall")

    def online(self, i: int | Literal["all"]) -> Any:
        """Camera ``i`` comes back (from offline or stalled)."""
        return self._control(i, "online")

    def states(self) -> dict[int, str]:
        """Camera index -> ``"online" | "stalled" | "offline"``."""
        with urllib.request.urlopen(f"{self.control_url}/cameras", timeout=10) as resp:
            return {int(c["index"]): str(c["state"]) for c in json.load(resp)}

    def _control(self, i: int | str, action: FaultAction) -> Any:
        if not self.running:
            raise CameraSimError("not running")
        req = urllib.request.Request(f"{self.control_url}/cameras/{i}/{action}", data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            raise CameraSimError(
                f"{action} cam {i}: {exc.code} {exc.read().decode(errors='replace')}"
            ) from exc

    # --- plumbing ------------------------------------------------------------------------------------
    def _spawn(self, target: Any, *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    @staticmethod
    def _pump_stdout(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)

    def _pump_stderr(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.rstrip()
            self._stderr_tail = [*self._stderr_tail[-49:], line]
            level = (
                logging.WARNING
                if (" WARNING " in line or " ERROR " in line or "Traceback" in line)
                else logging.DEBUG
            )
            server_log.log(level, "%s", line)


def run_camera_sim(
    count: int,
    port: int = 8554,
    cache_dir: Path | None = None,
    control_port: int | None = None,
    *,
    bind: str = "127.0.0.1",
    distinct: int = DEFAULT_DISTINCT,
    names: Sequence[str] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve ``count`` cameras until Ctrl-C / SIGTERM (or ``stop`` is set). ``control_port=None``: any free port."""
    stop = stop or threading.Event()
    sim = CameraSim(
        count,
        port=port,
        control_port=control_port,
        cache_dir=cache_dir,
        bind=bind,
        distinct=distinct,
        names=names,
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with sim:
            print(f"Simulated cameras on rtsp://{sim.host}:{sim.port}  (control: {sim.control_url})")
            for cam in sim.cameras:
                print(f"  {cam.name:<16} {cam.main_url}   {cam.sub_url}")
            print(f"Faults: curl -X POST {sim.control_url}/cameras/1/offline|stall|online   (Ctrl-C stops)")
            sys.stdout.flush()
            while not stop.wait(0.5):
                if not sim.running:
                    print("camera simulator exited", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def main_sim_cameras(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python main.py sim cameras --count N [--port P] [--control-port C] [--cache-dir D]``."""
    parser = argparse.ArgumentParser(prog="main.py sim cameras", description="Serve simulated RTSP cameras.")
    parser.add_argument("--count", type=int, default=8, help="number of cameras (default 8)")
    parser.add_argument("--port", type=int, default=8554, help="RTSP port (default 8554; 0 = any free port)")
    parser.add_argument(
        "--control-port", type=int, default=None, help="fault-control HTTP port (default: any free)"
    )
    parser.add_argument("--bind", default="127.0.0.1", help="RTSP listen address (default 127.0.0.1)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where encoded loop clips are kept")
    parser.add_argument(
        "--distinct",
        type=int,
        default=DEFAULT_DISTINCT,
        help="distinct clips; more cameras reuse them (default 16)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    return run_camera_sim(
        args.count, args.port, args.cache_dir, args.control_port, bind=args.bind, distinct=args.distinct
    )

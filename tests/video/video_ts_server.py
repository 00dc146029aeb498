"""A tiny live MPEG-TS over HTTP server for the video tests and the tile screenshot script.

It loops one pre-encoded ``.ts`` file and paces it in real time by the file's PCR, so players see
a live stream like the engine's media relay serves (``GET /media/{token}/{camera}.ts``) at almost
no CPU cost. ``stop()`` drops every connection and the listening socket (a dead camera);
``start()`` on the same port brings it back.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_log = logging.getLogger(__name__)

TS_PACKET = 188
_PCR_HZ = 27_000_000
# Packets sent per write: ~7 KB, the usual MPEG-TS over HTTP chunk.
_CHUNK_PACKETS = 40
# The first this-many seconds go out at once, as a relay's start burst would (fast first frame).
_BURST_S = 0.3


def encode_test_clip(
    path: Path, *, seconds: int = 20, width: int = 640, height: int = 360, fps: int = 15
) -> Path:
    """Encode a test-pattern H.264 clip into MPEG-TS (1 s GOP, baseline), once; about 0.5 s of CPU."""
    if path.exists() and path.stat().st_size > 0:
        return path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed (packaging/apt-packages.txt)")
    tmp = path.with_suffix(".part.ts")
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={fps}",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-profile:v",
            "baseline",
            "-g",
            str(fps),
            "-keyint_min",
            str(fps),
            "-sc_threshold",
            "0",
            "-b:v",
            "600k",
            "-muxdelay",
            "0",
            "-muxpreload",
            "0",
            "-f",
            "mpegts",
            str(tmp),
        ],
        check=True,
        timeout=120,
    )
    tmp.replace(path)
    return path


def _pcr_of(packet: bytes) -> int | None:
    """The PCR (27 MHz ticks) carried by one TS packet, if any."""
    if packet[0] != 0x47 or not packet[3] & 0x20:  # no adaptation field
        return None
    if packet[4] < 7 or not packet[5] & 0x10:  # too short or no PCR flag
        return None
    b = packet[6:12]
    base = (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)
    ext = ((b[4] & 0x01) << 8) | b[5]
    return base * 300 + ext


class _Clip:
    """The clip cut into chunks, each with the time (s from the clip start) it is due."""

    def __init__(self, data: bytes) -> None:
        if len(data) % TS_PACKET or not data or data[0] != 0x47:
            raise ValueError("not an MPEG-TS file")
        self.chunks: list[tuple[float, bytes]] = []
        first: int | None = None
        due = 0.0
        for start in range(0, len(data), TS_PACKET * _CHUNK_PACKETS):
            chunk = data[start : start + TS_PACKET * _CHUNK_PACKETS]
            for off in range(0, len(chunk), TS_PACKET):
                pcr = _pcr_of(chunk[off : off + TS_PACKET])
                if pcr is not None:
                    first = pcr if first is None else first
                    due = max(due, (pcr - first) / _PCR_HZ)
                    break
            self.chunks.append((due, chunk))
        frame = 1 / 15
        self.duration = due + frame


class LiveTsServer:
    """Serve ``/<anything>.ts`` as an endless live stream of ``clip`` on 127.0.0.1.

    Each connection starts at the clip start and loops it (a timestamp jump at each wrap, as
    cameras that restart produce). Thread-per-connection; the threads sleep between chunks.
    """

    def __init__(self, clip: Path, port: int = 0) -> None:
        self._clip = _Clip(clip.read_bytes())
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self.connections = 0

    @property
    def port(self) -> int:
        return self._port

    def url(self, name: str = "cam") -> str:
        return f"http://127.0.0.1:{self._port}/{name}.ts"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        self._stopping.clear()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: object) -> None:
                _log.debug(format, *args)

            def do_GET(self) -> None:
                if not self.path.split("?", 1)[0].endswith(".ts"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                owner._serve(self.connection)

        server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        """Keep every connection open but send nothing (a hung camera or network)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Send again, live: what was due while paused is skipped over in time, not burst."""
        self._flowing.set()

    def stop(self) -> None:
        """Close the listening socket and cut every viewer (a camera that died)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)
            self.connections += 1
        clip = self._clip
        start = time.monotonic() - _BURST_S
        loop = 0
        try:
            while not self._stopping.is_set():
                base = start + loop * clip.duration
                for due, chunk in clip.chunks:
                    wait = base + due - time.monotonic()
                    if wait > 0 and self._stopping.wait(wait):
                        return
                    if not self._flowing.is_set():
                        paused_at = time.monotonic()
                        while not self._flowing.wait(0.1):
                            if self._stopping.is_set():
                                return
                        shift = time.monotonic() - paused_at
                        start += shift
                        base += shift
                    conn.sendall(chunk)
                loop += 1
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)

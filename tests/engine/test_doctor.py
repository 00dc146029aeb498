"""``goldentime doctor``: every check of the issue, each shown to answer OK and, where it can be
provoked here, WARN or FAIL with a hint (video backends, fonts, GPU, disk, settings, engine, clock skew,
TLS certificate and CA, basemaps)."""

from __future__ import annotations

import http.server
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from app.doctor import Check, run_checks
from app.engine.settings import load_settings
from app.engine.tls import init_site_certs
from tests.engine.conftest import start_engine

ROOT = Path(__file__).resolve().parents[2]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def checks(tmp_path: Path, **kw: object) -> dict[str, Check]:
    settings = load_settings(None, data_dir=tmp_path / "data")
    return {c.name: c for c in run_checks(settings, **kw)}  # type: ignore[arg-type]


def doctor_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "doctor", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_video_backends_say_which_streams_each_opens(tmp_path: Path) -> None:
    found = checks(tmp_path, engine_url=None)
    vlc = found["video: libVLC"]
    # Debian's libVLC: http:// (the relay's MPEG-TS) and HLS, but no RTSP (built without live555).
    assert vlc.level == "OK" and "http:// (relay MPEG-TS)" in vlc.detail and "HLS" in vlc.detail
    assert "rtsp://" in vlc.detail
    qt = found["video: Qt Multimedia"]
    assert qt.level == "OK" and "opens rtsp://, http:// MPEG-TS, HLS" in qt.detail
    assert found["video: ffmpeg"].level == ("OK" if shutil.which("ffmpeg") else "WARN")


def test_fonts_fail_without_a_korean_font(tmp_path: Path) -> None:
    assert checks(tmp_path, engine_url=None)["fonts"].level == "OK"  # fonts-noto-cjk is installed
    empty = tmp_path / "fonts.conf"
    empty.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{tmp_path}/nofonts</dir>'
        f"<cachedir>{tmp_path}/cache</cachedir></fontconfig>"
    )
    r = doctor_cli("--data-dir", str(tmp_path / "data"), env={"FONTCONFIG_FILE": str(empty)})
    line = next(line for line in r.stdout.splitlines() if " fonts:" in line)
    assert line.startswith("FAIL fonts: no font covers Korean") and "fonts-noto-cjk" in line
    assert r.returncode == 1


def test_gpu_decode_and_disk_lines_match_this_machine(tmp_path: Path) -> None:
    found = checks(tmp_path, engine_url=None)
    nodes = sorted(Path("/dev/dri").glob("renderD*")) if Path("/dev/dri").exists() else []
    assert found["GPU decode"].level == ("OK" if nodes else "WARN")
    assert "software" in found["GPU decode"].detail or str(nodes[0]) in found["GPU decode"].detail
    free = shutil.disk_usage(tmp_path).free / 2**30
    disk = found["disk"]
    assert disk.level == ("FAIL" if free < 1 else "WARN" if free < 5 else "OK")
    assert f"{free:.0f} GiB free" in disk.detail or f"{free:.1f} GiB free" in disk.detail


def test_a_wrong_settings_file_is_a_fail_naming_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "settings.toml"
    bad.write_text("[outbox]\nconcurrency = 999\n")
    r = doctor_cli("--config", str(bad))
    assert r.returncode == 1
    assert r.stdout.startswith("FAIL settings:") and "outbox.concurrency (line 2)" in r.stdout
    assert "goldentime settings check FILE" in r.stdout


class _SkewedEngine(http.server.BaseHTTPRequestHandler):
    """Stands in for an engine whose clock is off (a real engine's Date header is the system clock's)."""

    skew_s = 0.0

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(time.time() + self.skew_s, usegmt=True)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ready"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def skewed() -> Iterator[tuple[str, type[_SkewedEngine]]]:
    handler = type("Handler", (_SkewedEngine,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("skew", "level"), [(0.0, "OK"), (12.0, "WARN"), (-120.0, "FAIL")])
def test_clock_skew_against_the_engine(
    tmp_path: Path, skewed: tuple[str, type[_SkewedEngine]], skew: float, level: str
) -> None:
    url, handler = skewed
    handler.skew_s = skew
    found = checks(tmp_path, engine_url=url)
    assert found["engine"].level == "OK"
    clock = found["clock"]
    assert clock.level == level, clock
    assert abs(float(clock.detail.split(" s ")[0]) - abs(skew)) < 1.5
    if skew < 0:
        assert "behind" in clock.detail and "NTP" in clock.line()


def test_tls_certificate_and_ca(tmp_path: Path) -> None:
    certs = init_site_certs(tmp_path / "pki", ["127.0.0.1"])
    e = start_engine(
        tmp_path / "engine", security={"tls_cert": certs.server_cert, "tls_key": certs.server_key}
    )
    try:
        assert e.url.startswith("https://")
        good = checks(tmp_path, engine_url=e.url, ca_file=certs.ca_cert)
        assert good["TLS CA"].level == "OK" and "valid for" in good["TLS CA"].detail
        assert good["engine"].level == "OK"
        assert good["TLS"].level == "OK" and "certificate for 127.0.0.1 trusted" in good["TLS"].detail
        # Without the site CA: the engine cannot be reached, and the TLS line says why.
        untrusted = checks(tmp_path, engine_url=e.url)
        assert untrusted["engine"].level == "FAIL"
        assert untrusted["TLS"].level == "FAIL" and "not trusted" in untrusted["TLS"].detail
        assert "--ca" in untrusted["TLS"].line()
        # The server's certificate passed as the CA is named as the mistake.
        wrong = checks(tmp_path, engine_url=None, ca_file=certs.server_cert)
        assert wrong["TLS CA"].level == "FAIL" and "not a CA certificate" in wrong["TLS CA"].detail
    finally:
        e.close()


class _TileServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/tiles/0/0/0.png":
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def test_basemaps_reachable_or_present(tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from app.console.map.basemaps import BasemapSource, basemaps_to_json

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TileServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    tiles = tmp_path / "city.mbtiles"
    with sqlite3.connect(tiles) as db:
        db.execute("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)")
        db.execute("INSERT INTO tiles VALUES (0, 0, 0, ?)", (PNG,))
    console = tmp_path / "console"
    console.mkdir()
    store = QSettings(str(console / "console.ini"), QSettings.Format.IniFormat)
    store.setValue(
        "map/basemaps",
        basemaps_to_json(
            [
                BasemapSource("site", "xyz", url=f"http://127.0.0.1:{port}/tiles/{{z}}/{{x}}/{{y}}.png"),
                BasemapSource("gone", "xyz", url="http://127.0.0.1:9/{z}/{x}/{y}.png"),
                BasemapSource("wrong", "xyz", url=f"http://127.0.0.1:{port}/nothing/{{z}}/{{x}}/{{y}}.png"),
                BasemapSource("offline", "mbtiles", path=str(tiles)),
                BasemapSource("missing", "mbtiles", path=str(tmp_path / "missing.mbtiles")),
            ]
        ),
    )
    store.sync()
    try:
        found = checks(tmp_path, engine_url=None, console_dir=console)
    finally:
        server.shutdown()
        server.server_close()
    assert found["basemap site"].level == "OK" and "image/png" in found["basemap site"].detail
    assert found["basemap gone"].level == "WARN" and "not reachable" in found["basemap gone"].detail
    assert found["basemap wrong"].level == "WARN" and "404" in found["basemap wrong"].detail
    assert found["basemap offline"].level == "OK"
    assert found["basemap missing"].level == "WARN" and "missing" in found["basemap missing"].detail
    # No console settings on this machine: nothing to check, said plainly.
    assert checks(tmp_path, engine_url=None, console_dir=tmp_path / "none")["basemap"].level == "OK"

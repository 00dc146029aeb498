"""``[log]``: the engine and its media process write their own files, rotated at a size, old ones kept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.engine.log_settings import LogSettings

ROOT = Path(__file__).resolve().parents[2]

ROTATE = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO)
from app.engine.log_files import log_to_file
log_to_file(Path(sys.argv[1]), 65536, 2)
log = logging.getLogger("goldentime.test")
for i in range(3000):
    log.info("line %05d %s", i, "x" * 80)
log.warning("the last line")
"""


def test_a_log_file_rotates_at_its_size_keeping_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "engine.log"
    r = subprocess.run(
        [sys.executable, "-c", ROTATE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["engine.log", "engine.log.1", "engine.log.2"]  # 3000 × ~130 bytes: older ones deleted
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 65536
    assert "the last line" in path.read_text()
    first_kept = int(path.with_name("engine.log.2").read_text().split("line ", 1)[1][:5])
    assert first_kept > 1000  # the oldest lines are gone, not kept forever
    # Standard error (the journal under systemd) keeps warnings and errors only.
    assert "the last line" in r.stderr and "line 02999" not in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_engine_and_its_media_process_each_write_their_own_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "settings.toml"
    port, media_port = _free_port(), _free_port()
    config.write_text(
        f'port = {port}\n[media]\nport = {media_port}\n[log]\nfile = "{logs / "engine.log"}"\nmax_bytes = 1048576\nbackups = 3\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENTIME_")}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "engine", "--config", str(config), "--data-dir", str(tmp_path / "d")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        media_log = logs / "engine-media.log"
        while time.monotonic() < deadline:
            try:
                # The media process starts at the first connection to the media port.
                httpx.get(f"http://127.0.0.1:{media_port}/healthz", timeout=2)
            except httpx.HTTPError:
                pass
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200 and (
                    media_log.exists()
                ):
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.2)
        engine_text = (logs / "engine.log").read_text()
        assert f"engine on http://127.0.0.1:{port}" in engine_text
        assert "media process started" in engine_text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    # The media process's own lines (here: its exit when the engine closed the channel), in its own file.
    media_text = media_log.read_text()
    assert "media[" in media_text and "exiting" in media_text, media_text
    assert "media[" not in (logs / "engine.log").read_text()
    # Once the file is open, everything below WARNING goes to the files only.
    assert " INFO " not in err and "engine on http" not in err, err[-3000:]
    assert LogSettings(file=logs / "engine.log").media_file() == media_log


def test_an_unwritable_log_file_stops_the_engine_with_its_name(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[log]\nfile = "/nonexistent-goldentime-dir/engine.log"\n')
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "engine", "--config", str(config), "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip
    assert r.returncode == 1
    assert (
        "log.file: cannot write /nonexistent-goldentime-dir/engine.log: No such file or directory" in r.stderr
    )

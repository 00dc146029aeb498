"""Show a 2×2 grid of video tiles playing the test stream (not a test; a look and a CPU check).

Top row: backend ``auto`` (libVLC for http:// here); bottom row: Qt Multimedia forced. Tile 4 loses
its camera after a few seconds (its own server stops) to show the offline state.

    Xvfb :99 -screen 0 1600x900x24 &
    DISPLAY=:99 QT_XCB_GL_INTEGRATION=none .venv/bin/python tests/video/show_tiles.py \
        --seconds 8 --shot /tmp/tiles.png
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget
from video_ts_server import LiveTsServer, encode_test_clip

from app.video.choice import BackendSetting
from app.video.factory import BackendFactory
from app.video.tile import VideoTile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--shot", type=Path, default=None, help="take `import -window root` here at the end")
    parser.add_argument(
        "--kill-after", type=float, default=4.0, help="stop tile 4's server after this (s); 0: never"
    )
    parser.add_argument("--size", default="1600x900")
    parser.add_argument(
        "--backends",
        choices=["mixed", "vlc", "qt"],
        default="mixed",
        help="mixed: top row auto, bottom row Qt",
    )
    parser.add_argument("--tiles", type=int, choices=[1, 4], default=4, help="1: one maximised tile")
    args = parser.parse_args()

    clip = encode_test_clip(Path(tempfile.gettempdir()) / "goldentime-test-640x360.ts")
    server = LiveTsServer(clip)
    server.start()
    dying = LiveTsServer(clip)
    dying.start()

    app = QApplication(sys.argv[:1])
    auto = BackendFactory(BackendSetting.AUTO)
    qt = BackendFactory(BackendSetting.QT)
    window = QWidget()
    window.setWindowTitle("GoldenTime tiles")
    grid = QGridLayout(window)
    grid.setContentsMargins(4, 4, 4, 4)
    grid.setSpacing(4)
    factories = {"mixed": [auto, auto, qt, qt], "vlc": [auto] * 4, "qt": [qt] * 4}[args.backends]
    tiles = [VideoTile(f, window) for f in factories[: args.tiles]]
    names = ["Cheongju City Hall", "Sangdang-ro crossing", "Musimcheon bridge", "Ochang school gate"]
    for i, tile in enumerate(tiles):
        grid.addWidget(tile, i // 2, i % 2)
        src = dying if i == 3 else server
        tile.set_camera(f"CAM-{i + 1:03d}", names[i], src.url(f"main{i}"), src.url(f"sub{i}"))
    w, h = (int(v) for v in args.size.split("x"))
    window.setGeometry(0, 0, w, h)
    window.show()

    start = time.monotonic()
    warm: list[float] = []  # (wall, cpu) once every tile had time to start

    def cpu_now() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    QTimer.singleShot(3000, lambda: warm.extend((time.monotonic(), cpu_now())))
    if args.kill_after > 0:
        QTimer.singleShot(int(args.kill_after * 1000), dying.stop)

    def finish() -> None:
        if warm:
            wall, cpu = time.monotonic() - warm[0], cpu_now() - warm[1]
            print(f"steady CPU (after 3 s): {100 * cpu / wall:.1f} % of one core")
        if args.shot:
            subprocess.run(["import", "-window", "root", str(args.shot)], check=False, timeout=30)
        for tile in tiles:
            print(tile.model.camera and tile.model.camera.name, tile.status.value, tile.model.backend)
        for tile in tiles:
            tile.close_player()
        app.quit()

    QTimer.singleShot(int(args.seconds * 1000), finish)
    app.exec()
    auto.close()
    qt.close()
    server.stop()
    dying.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - start
    cpu = usage.ru_utime + usage.ru_stime
    print(f"CPU {cpu:.2f} s over {wall:.1f} s wall = {100 * cpu / wall:.0f} % of one core (incl. startup)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

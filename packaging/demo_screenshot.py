#!/usr/bin/env python3
"""Regenerate docs/screenshots/demo-console-ko.png: ``python main.py demo`` after its scripted scenario.

    python packaging/demo_screenshot.py [--out docs/screenshots/demo-console-ko.png] [--speed 4]

Starts Xvfb (1920×1080×24), runs the demo exactly as a new user would (``main.py demo``: the embedded engine,
the simulated Jinju with its cameras, agencies and scenario, and the console logged in as the demo
operator, in Korean) on a throwaway data and config dir, waits until the scripted part of the scenario has
played (120 s of scenario time, divided by ``--speed``), then presses the console's jump key (Ctrl+J) with
``xdotool`` as an operator would: the newest urgent incident opens and its cameras go on the video wall.
The root window is grabbed with ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1920, 1080)
SCRIPT_END_S = 120.0  # app.sim.scenario.SCRIPT_END_S


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "demo-console-ko.png")
    ap.add_argument("--speed", type=float, default=4.0)
    ap.add_argument("--settle", type=float, default=15.0, help="seconds after the jump before the grab")
    args = ap.parse_args(argv)
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (packaging/apt-packages.txt)")
    n = next(n for n in range(121, 160) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    display = f":{n}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="goldentime-demo-shot-") as tmp:
        env = {
            **os.environ,
            "DISPLAY": display,
            "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
            "PYTHONUNBUFFERED": "1",
        }
        demo = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "demo",
                "--data-dir",
                str(Path(tmp) / "data"),
                "--speed",
                str(args.speed),
                "--language",
                "ko",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert demo.stdout is not None
            deadline = time.monotonic() + 300
            for line in demo.stdout:
                print(line, end="")
                if line.startswith("GoldenTime demo: ready"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("the demo did not get ready")
            # Keep reading its output (a full pipe would block it) while the scenario plays.
            import threading

            out = demo.stdout

            def drain() -> None:
                for _line in out:
                    pass

            threading.Thread(target=drain, daemon=True).start()
            win: list[str] = []
            deadline = time.monotonic() + 120
            while not win and time.monotonic() < deadline:  # the console's window is up
                win = subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "골든타임"],
                    env=env,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                time.sleep(1)
            time.sleep(SCRIPT_END_S / args.speed + 10)
            if demo.poll() is not None:
                raise SystemExit(f"the demo ended early ({demo.returncode})")
            # No window manager on Xvfb: give the console the keyboard focus directly, then press the key.
            subprocess.run(
                ["xdotool", "mousemove", str(SIZE[0] // 2), str(SIZE[1] // 2)], env=env, check=False
            )
            if win:
                subprocess.run(["xdotool", "windowfocus", "--sync", win[-1]], env=env, check=False)
            subprocess.run(["xdotool", "key", "ctrl+j"], env=env, check=True)
            time.sleep(args.settle)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["import", "-display", display, "-window", "root", str(args.out)], env=env, check=True
            )
            print(f"wrote {args.out}")
        finally:
            demo.send_signal(signal.SIGINT)  # the console closes cleanly, the demo stops its simulators
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                demo.kill()
            xvfb.terminate()
            xvfb.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m app.console.wall --engine URL --wall WALL-1 --key-file F [--ca CA.pem] [--screen N]``; without
``--key-file`` the key comes from ``$GOLDENTIME_WALL_KEY``. The same as ``python main.py wall`` (tests and wall
PCs without the CLI). The key is printed once by ``python main.py walls add WALL-1``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from app.console.wall.runner import run_wall


def read_key(key_file: str | None) -> Callable[[], str]:
    """Reads the wall key from ``key_file`` (again each time the engine refuses it, so a new key file
    works without a restart), else ``$GOLDENTIME_WALL_KEY`` ('' when neither is set)."""

    def read() -> str:
        if key_file:
            try:
                return Path(key_file).read_text(encoding="utf-8").strip()
            except OSError:
                return ""
        return os.environ.get("GOLDENTIME_WALL_KEY", "").strip()

    return read


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.console.wall", description=__doc__)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--wall", required=True)
    ap.add_argument("--screen", type=int)
    ap.add_argument("--key-file", help="file holding the wall key (else $GOLDENTIME_WALL_KEY)")
    ap.add_argument("--ca", help="CA certificate that signs an https:// engine's certificate")
    ap.add_argument("--language", choices=["ko", "en"])
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per request on an unattended PC
    return run_wall(
        args.engine,
        args.wall,
        screen=args.screen,
        key=read_key(args.key_file),
        language=args.language,
        ca=args.ca,
    )


if __name__ == "__main__":
    sys.exit(main())

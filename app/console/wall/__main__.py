"""``python -m app.console.wall --engine URL --wall WALL-1 [--screen N] [--user wall]``; the password comes
from ``$GOLDENTIME_WALL_PASSWORD``. The same as ``python main.py wall`` (tests and wall PCs without the CLI)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app.console.wall.runner import run_wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.console.wall", description=__doc__)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--wall", required=True)
    ap.add_argument("--screen", type=int)
    ap.add_argument("--user", default=os.environ.get("GOLDENTIME_WALL_USER", "wall"))
    ap.add_argument("--language", choices=["ko", "en"])
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per request on an unattended PC
    password = os.environ.get("GOLDENTIME_WALL_PASSWORD", "")
    return run_wall(
        args.engine,
        args.wall,
        screen=args.screen,
        username=args.user,
        password=password,
        language=args.language,
    )


if __name__ == "__main__":
    sys.exit(main())

"""``python main.py media …``: the media relay process (started and supervised by the engine)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_media(args: argparse.Namespace, rest: list[str]) -> int:
    from app.engine.media.process import main_media

    return int(main_media(rest))


def register(sub: Any) -> None:
    sub.add_parser(
        "media",
        help="the media relay process (the engine starts it; see: media --help)",
        add_help=False,
    ).set_defaults(func_rest=cmd_media)

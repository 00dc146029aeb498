"""Where a setting came from: its line in the TOML file, and overrides from the environment.

tomllib gives values, not positions, so a key's line is found by reading the file's table headers and
``key =`` lines; good enough to point an administrator at the right line of a hand-written file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=")
ENV_PREFIX = "GOLDENTIME_"


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line that sets ``loc`` (e.g. ``("outbox", "concurrency")``), or its table's header."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    if not names:
        return None
    table: list[str] = []
    best: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            table = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            if table == names[: len(table)] and best is None:
                best = number  # the table itself, if the key is not found below it
            continue
        key = _KEY.match(raw)
        if key and [*table, key.group(1).strip('"')] == names[: len(table) + 1]:
            return number
    return best


def environment_overrides(
    environ: Mapping[str, str], top_level: set[str], sections: set[str]
) -> dict[str, Any]:
    """``GOLDENTIME_PORT=9000`` sets ``port``; ``GOLDENTIME_OUTBOX__CONCURRENCY=32`` sets ``outbox.concurrency``.

    A value is read as a TOML value when it parses as one (numbers, booleans, ``["a", "b"]``), else as text.
    """
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or not value or name == ENV_PREFIX + "CONFIG":
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if len(path) == 1 and path[0] in top_level:
            out[path[0]] = _value(value)
        elif len(path) == 2 and path[0] in sections:
            out.setdefault(path[0], {})[path[1]] = _value(value)
    return out


def _value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, tables merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(dict(out[key]), value)
        else:
            out[key] = value
    return out

"""The console's own settings (``console.ini``), read and written without a screen.

Keys (section ``[map]``, ``[video]``, ``[golden]``):

- ``map/basemaps``: JSON list of basemaps (:class:`app.console.map.basemaps.BasemapSource` dicts);
  ``map/basemap``: the one shown (the operator's last pick in the layer control). The older keys
  ``map/mbtiles`` and ``map/xyz_url`` (+ ``map/xyz_attribution``) still work when no list is set.
- ``video/auto``: ``always``, ``p1p2`` (default) or ``never`` (:mod:`.auto_video`).
- ``golden/<service>``: the golden-time countdown of that service in seconds, shown in the queue and the
  detail instead of the engine's (0 or absent: the engine's ``golden_time_s``). The engine's own
  deadline (its reports, agencies) is not changed: this is what the operator counts down to.
- ``alerts/jump_key``: the shortcut that jumps to the newest urgent incident (default ``Ctrl+J``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.console.map.basemaps import (
    BasemapSource,
    basemaps_from_json,
    basemaps_to_json,
    legacy_basemaps,
)
from app.console.viewmodels.auto_video import AutoVideoPolicy, parse_policy
from app.domain.enums import Service

__all__ = ["ConsoleSettings", "SettingsStore", "load_settings", "save_settings"]

GOLDEN_MIN_S = 30
GOLDEN_MAX_S = 24 * 3600
DEFAULT_JUMP_KEY = "Ctrl+J"


class SettingsStore(Protocol):
    """What QSettings offers (and a dict-backed stand-in in tests)."""

    def value(self, key: str, defaultValue: Any = ...) -> Any: ...

    def setValue(self, key: str, value: Any) -> None: ...

    def remove(self, key: str) -> None: ...


@dataclass
class ConsoleSettings:
    basemaps: list[BasemapSource] = field(default_factory=list)
    basemap: str = ""
    video_auto: AutoVideoPolicy = "p1p2"
    golden_s: dict[Service, int] = field(default_factory=dict)
    jump_key: str = DEFAULT_JUMP_KEY
    problems: list[str] = field(default_factory=list)

    def validate(self) -> list[str]:
        """What stops these settings from being saved (empty: fine)."""
        problems: list[str] = []
        names: set[str] = set()
        for s in self.basemaps:
            errs = s.validate()
            if s.name in names:
                errs.append("the name is used twice")
            names.add(s.name)
            if errs:
                problems.append(f"{s.name or '?'}: " + "; ".join(errs))
        for svc, sec in self.golden_s.items():
            if not GOLDEN_MIN_S <= sec <= GOLDEN_MAX_S:
                problems.append(f"{svc.value}: the golden time must be between 30 s and 24 h")
        return problems


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def load_settings(store: SettingsStore) -> ConsoleSettings:
    raw = store.value("map/basemaps")
    basemaps, problems = basemaps_from_json(raw)
    if not raw:
        basemaps = legacy_basemaps(
            store.value("map/mbtiles"), store.value("map/xyz_url"), store.value("map/xyz_attribution")
        )
    golden: dict[Service, int] = {}
    for svc in Service:
        sec = _int(store.value(f"golden/{svc.value}"))
        if GOLDEN_MIN_S <= sec <= GOLDEN_MAX_S:
            golden[svc] = sec
    return ConsoleSettings(
        basemaps=basemaps,
        basemap=str(store.value("map/basemap") or ""),
        video_auto=parse_policy(store.value("video/auto")),
        golden_s=golden,
        jump_key=str(store.value("alerts/jump_key") or DEFAULT_JUMP_KEY),
        problems=problems,
    )


def save_settings(store: SettingsStore, s: ConsoleSettings) -> None:
    """Write ``s`` (call :meth:`ConsoleSettings.validate` first)."""
    store.setValue("map/basemaps", basemaps_to_json(s.basemaps))
    for old in ("map/mbtiles", "map/xyz_url", "map/xyz_attribution"):
        store.remove(old)  # the list replaces them
    store.setValue("map/basemap", s.basemap)
    store.setValue("video/auto", s.video_auto)
    for svc in Service:
        if svc in s.golden_s:
            store.setValue(f"golden/{svc.value}", int(s.golden_s[svc]))
        else:
            store.remove(f"golden/{svc.value}")
    store.setValue("alerts/jump_key", s.jump_key or DEFAULT_JUMP_KEY)


def golden_overrides(s: ConsoleSettings) -> Mapping[Service, int]:
    return dict(s.golden_s)

"""Incidents bring their video: which cameras go on the console's video wall when an incident is selected.

Pure (no Qt): the console calls :func:`cameras_for_wall` when an incident's detail arrives. The policy is a
setting (``video/auto``): ``"always"``, ``"p1p2"`` (default: priorities 1 and 2 only) or ``"never"``. Cameras
whose field of view covers the incident's point come first, then the rest nearest first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal, Protocol

AutoVideoPolicy = Literal["always", "p1p2", "never"]
POLICIES: Final[tuple[AutoVideoPolicy, ...]] = ("always", "p1p2", "never")
DEFAULT_POLICY: Final[AutoVideoPolicy] = "p1p2"
COVER_RANGE_M: Final = 80.0  # a camera "covers" the point when it looks at it from closer than this


class _Cam(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def direction_deg(self) -> float | None: ...
    @property
    def fov_deg(self) -> float | None: ...


def parse_policy(value: object) -> AutoVideoPolicy:
    """A stored setting as a policy (anything unknown is the default)."""
    text = str(value or "")
    return next((p for p in POLICIES if p == text), DEFAULT_POLICY)


def wants_video(policy: AutoVideoPolicy, priority: int) -> bool:
    if policy == "always":
        return True
    if policy == "never":
        return False
    return priority <= 2


def _metres_and_bearing(lat: float, lon: float, to_lat: float, to_lon: float) -> tuple[float, float]:
    dy = (to_lat - lat) * 111_320.0
    dx = (to_lon - lon) * 111_320.0 * math.cos(math.radians(lat))
    return math.hypot(dx, dy), math.degrees(math.atan2(dx, dy)) % 360.0


def covers(cam: _Cam, lat: float, lon: float) -> bool:
    """True when the point lies inside the camera's field-of-view wedge (within :data:`COVER_RANGE_M`)."""
    if cam.direction_deg is None or cam.fov_deg is None:
        return False
    dist, bearing = _metres_and_bearing(cam.lat, cam.lon, lat, lon)
    if dist > COVER_RANGE_M:
        return False
    off = abs((bearing - cam.direction_deg + 180.0) % 360.0 - 180.0)
    return dist < 1.0 or off <= cam.fov_deg / 2.0


def cameras_for_wall(
    policy: AutoVideoPolicy, priority: int, lat: float, lon: float, cameras: Sequence[_Cam]
) -> list[str] | None:
    """The camera ids to put on the wall (covering first, then nearest), or None when the policy says no."""
    if not cameras or not wants_video(policy, priority):
        return None

    def key(c: _Cam) -> tuple[int, float]:
        return (0 if covers(c, lat, lon) else 1, _metres_and_bearing(lat, lon, c.lat, c.lon)[0])

    return [c.id for c in sorted(cameras, key=key)]

"""A CCTV camera as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import Purpose


@dataclass(frozen=True, slots=True)
class Camera:
    """One camera. ``direction_deg`` (0 = north, clockwise) and ``fov_deg`` are None when unknown."""

    id: str
    name: str
    lat: float
    lon: float
    purpose: Purpose
    direction_deg: float | None = None
    fov_deg: float | None = None
    stream_main: str = ""
    stream_sub: str = ""

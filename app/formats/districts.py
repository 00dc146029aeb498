"""The engine API's district schema (``GET /api/v1/districts``, issue #18)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class DistrictOut(BaseModel):
    code: str  # 행정구역코드 (10 digits) or another scheme's code
    name: str
    bbox: tuple[float, float, float, float]  # south, west, north, east
    points: int
    properties: dict[str, Any]
    geometry: dict[str, Any] | None = None  # GeoJSON MultiPolygon (lon, lat) when asked for

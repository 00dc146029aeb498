"""``POST /api/v1/incidents/{incident_id}/units``: dispatched units' positions, sent by an agency (issue #15)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.formats.api import Latitude, Longitude, _In, _Out

UnitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class UnitPositionIn(_In):
    id: UnitId
    lat: Latitude
    lon: Longitude
    kind: Annotated[str, Field(max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    at: datetime | None = None  # when the fix was taken (default: when the engine received it)


class UnitPositionsIn(_In):
    """Up to 50 units; each replaces the agency's earlier position of the same unit."""

    units: Annotated[list[UnitPositionIn], Field(min_length=1, max_length=50)]


class UnitPositionOut(_Out):
    id: str
    lat: float
    lon: float
    kind: str = ""
    at: datetime
    agency_id: str | None = None  # only shown to the console and to the agency that sent it

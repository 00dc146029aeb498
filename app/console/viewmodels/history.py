"""Closed incidents, searched (issue #15), decided without a screen: the query a filter makes and the
rows' texts. Read-only: the history view never changes an incident; the engine audits every search
(``incident.history``) and every incident opened from it (``incident.read``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.formats.api import IncidentDetailOut, IncidentOut

__all__ = ["NEAR_FROM", "PERIODS_H", "HistoryQuery", "HistoryVM"]

PERIODS_H = (24, 24 * 7, 24 * 30, 24 * 365)
#: Where a search "by place circle" is centred: nowhere (no circle), the selected incident, the map's centre.
NEAR_FROM = ("", "incident", "map")
#: The circle's radius (m): the route takes up to 50 km.
RADIUS_M_MIN, RADIUS_M_MAX, RADIUS_M_DEFAULT = 50, 50_000, 500
ROW_LIMIT = 500


@dataclass(frozen=True)
class HistoryQuery:
    hours: int = 24 * 7
    service: str = ""
    place: str = ""
    text: str = ""
    #: "" (no circle), "incident" (around the selected incident) or "map" (around the map's centre).
    near_from: str = ""
    radius_m: int = RADIUS_M_DEFAULT
    #: The circle's centre, once :meth:`centred` found it (lat, lon).
    centre: tuple[float, float] | None = None

    @property
    def needs_centre(self) -> bool:
        return self.near_from in ("incident", "map") and self.centre is None

    def centred(self, lat: float, lon: float) -> HistoryQuery:
        return replace(self, centre=(lat, lon))

    def params(self, now: datetime) -> dict[str, Any]:
        """Query parameters for ``GET /api/v1/history/incidents`` (empty fields are not filters)."""
        out: dict[str, Any] = {"since": (now - timedelta(hours=self.hours)).isoformat(), "limit": ROW_LIMIT}
        for key, value in (("service", self.service), ("place", self.place), ("q", self.text)):
            if value.strip():
                out[key] = value.strip()[:200]
        if self.near_from and self.centre is not None:
            radius = min(max(int(self.radius_m), RADIUS_M_MIN), RADIUS_M_MAX)
            out["near"] = f"{self.centre[0]:.6f},{self.centre[1]:.6f},{radius}"
        return out


def _local(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at else ""


class HistoryVM:
    def __init__(self) -> None:
        self.rows: list[IncidentOut] = []
        self.query: HistoryQuery | None = None
        self.detail: IncidentDetailOut | None = None

    def set_rows(self, query: HistoryQuery, rows: list[IncidentOut]) -> None:
        self.query, self.rows, self.detail = query, list(rows), None

    @staticmethod
    def row_texts(inc: IncidentOut) -> list[str]:
        """closed at, received at, service, priority, title, place."""
        return [
            _local(inc.closed_at),
            _local(inc.created_at),
            str(inc.service),
            str(inc.priority),
            inc.title,
            inc.location.address or f"{inc.location.lat:.5f}, {inc.location.lon:.5f}",
        ]

    def timeline_lines(self) -> list[str]:
        """The opened incident's timeline, oldest first, as ``HH:MM:SS  actor  kind  data``."""
        if self.detail is None:
            return []
        lines = []
        for ev in sorted(self.detail.timeline, key=lambda e: (e.at, e.id)):
            data = ", ".join(f"{k}={v}" for k, v in ev.data.items() if v not in (None, "", [], {}))
            lines.append(
                f"{ev.at.astimezone().strftime('%m-%d %H:%M:%S')}  {ev.actor}  {ev.kind}  {data}"[:300]
            )
        return lines

"""The audit trail as a supervisor reads it, decided without a screen: the query a filter makes, and one
line of text per row (who, what, which target, from where, the details)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.formats.api import AuditOut

__all__ = ["ACTION_PRESETS", "PERIODS_H", "AuditQuery", "AuditVM", "detail_text"]

#: Actions a supervisor looks for most (the field also takes any other action name).
ACTION_PRESETS = (
    "video.view",
    "share.create",
    "share.extend",
    "share.revoke",
    "incident.read",
    "incident.update",
    "incident.close",
    "session.create",
    "session.denied",
    "delivery.attempt",
    "audit.read",
)
#: How far back a query looks, in hours.
PERIODS_H = (1, 24, 24 * 7, 24 * 30)
ROW_LIMIT = 2000


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    action: str = ""
    target_id: str = ""
    hours: int = 24

    def params(self, now: datetime) -> dict[str, Any]:
        """Query parameters for ``GET /api/v1/audit`` (empty fields are not filters)."""
        out: dict[str, Any] = {"since": (now - timedelta(hours=self.hours)).isoformat(), "limit": ROW_LIMIT}
        for key, value in (("actor", self.actor), ("action", self.action), ("target_id", self.target_id)):
            if value.strip():
                out[key] = value.strip()
        return out

    def file_name(self, now: datetime) -> str:
        """A file name for the CSV export that says what it holds."""
        parts = ["goldentime-audit", now.strftime("%Y%m%d-%H%M")]
        parts += [v.strip().replace("/", "_") for v in (self.action, self.actor, self.target_id) if v.strip()]
        return "-".join(parts)[:120] + ".csv"


def detail_text(detail: dict[str, Any], limit: int = 160) -> str:
    """``key=value`` pairs in the order the engine wrote them, cut at ``limit`` characters."""
    text = ", ".join(f"{k}={_short(v)}" for k, v in detail.items() if v is not None and v != "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value[:5]) + (", …" if len(value) > 5 else "") + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class AuditVM:
    """The last query's rows; ``truncated`` when the engine had more than the row limit."""

    def __init__(self) -> None:
        self.rows: list[AuditOut] = []
        self.query = AuditQuery()
        self.truncated = False
        self.version = 0

    def set_rows(self, query: AuditQuery, rows: list[AuditOut]) -> None:
        self.query = query
        self.rows = rows
        self.truncated = len(rows) >= ROW_LIMIT
        self.version += 1

    def cells(self, row: AuditOut) -> tuple[str, str, str, str, str, str]:
        """Time (local, to the second), actor, action, target, client address, details."""
        target = row.target_type if not row.target_id else f"{row.target_type} {row.target_id}"
        at = row.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return at, row.actor, row.action, target, row.client or "", detail_text(row.detail)

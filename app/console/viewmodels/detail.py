"""One incident in detail, decided without a screen: timeline, cameras, shares with their expiry countdown,
and the delivery state per agency (delivered, pending, retrying, dead-letter)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.console.viewmodels.queue import GoldenTime, format_countdown, golden_time
from app.domain.clock import Clock, SystemClock
from app.domain.enums import AgencyKind, DeliveryState, IncidentStatus, Service, ShareStatus
from app.formats.api import (
    AgencyOut,
    CameraOut,
    IncidentDetailOut,
    LegalBasisOut,
    ShareOut,
    TimelineEventOut,
)

__all__ = [
    "EXPIRING_SOON_S",
    "AgencyDelivery",
    "DeliveryHealth",
    "IncidentDetailVM",
    "ShareState",
    "ShareView",
]

#: A share with less than this left is shown as expiring (the operator may extend it).
EXPIRING_SOON_S = 300


class ShareState(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    PENDING = "pending"  # waits for a supervisor's approval (or an operator's confirmation): no video yet


@dataclass(frozen=True, slots=True)
class ShareView:
    share: ShareOut
    agency_name: str
    state: ShareState
    remaining_s: float
    countdown: str  # "12:04" while active, "" otherwise

    @property
    def can_extend(self) -> bool:
        return self.state in (ShareState.ACTIVE, ShareState.EXPIRING)

    @property
    def can_revoke(self) -> bool:
        return self.can_extend


class DeliveryHealth(StrEnum):
    """One agency's deliveries for this incident, worst first wins."""

    DEAD = "dead-letter"
    RETRYING = "retrying"
    PENDING = "pending"
    DELIVERED = "delivered"


_RANK = {
    DeliveryHealth.DEAD: 0,
    DeliveryHealth.RETRYING: 1,
    DeliveryHealth.PENDING: 2,
    DeliveryHealth.DELIVERED: 3,
}
_OF_STATE = {
    DeliveryState.DEAD: DeliveryHealth.DEAD,
    DeliveryState.RETRYING: DeliveryHealth.RETRYING,
    DeliveryState.PENDING: DeliveryHealth.PENDING,
    DeliveryState.DELIVERED: DeliveryHealth.DELIVERED,
}


@dataclass(frozen=True, slots=True)
class AgencyDelivery:
    agency_id: str
    agency_name: str
    state: DeliveryHealth
    delivered: int
    total: int
    attempts: int  # of the worst delivery
    last_error: str | None
    dead_delivery_ids: tuple[str, ...] = field(default=())


class IncidentDetailVM:
    """The incident shown in the detail panel. Replace it with :meth:`set_detail` after every reload;
    :meth:`apply_delivery_update` applies a live ``delivery.updated`` without a reload."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._detail: IncidentDetailOut | None = None
        self._agencies: dict[str, AgencyOut] = {}
        #: The golden-time countdown per service set in the console's settings (seconds).
        self.golden_overrides: dict[Service, int] = {}
        #: The legal bases a share may name (``GET /api/v1/legal-bases``), loaded by the controller.
        self.legal_bases: list[LegalBasisOut] = []

    # ------------------------------------------------------------------ input

    def set_detail(self, detail: IncidentDetailOut | None) -> None:
        self._detail = detail

    def set_agencies(self, agencies: Iterable[AgencyOut]) -> None:
        self._agencies = {a.id: a for a in agencies}

    def apply_delivery_update(self, data: Mapping[str, Any]) -> bool:
        """Apply ``{delivery_id, incident_id, state, attempts}``; False when it is for a delivery this
        view does not hold (the caller reloads the incident)."""
        d = self._detail
        if d is None or data.get("incident_id") != d.id:
            return True
        for i, dv in enumerate(d.deliveries):
            if dv.id == data.get("delivery_id"):
                update: dict[str, Any] = {}
                try:
                    update["state"] = DeliveryState(str(data["state"]))
                except (KeyError, ValueError):
                    return False
                if "attempts" in data:
                    update["attempts"] = int(data["attempts"])
                d.deliveries[i] = dv.model_copy(update=update)
                return True
        return False

    def apply_incident(self, incident: Any) -> None:
        """Take the header fields (status, priority, assignee …) of a live ``incident.*`` event."""
        d = self._detail
        if d is None or getattr(incident, "id", None) != d.id:
            return
        fields = {k: getattr(incident, k) for k in type(incident).model_fields if k in type(d).model_fields}
        self._detail = d.model_copy(update=fields)

    # ------------------------------------------------------------------ output

    @property
    def detail(self) -> IncidentDetailOut | None:
        return self._detail

    @property
    def incident_id(self) -> str | None:
        return self._detail.id if self._detail else None

    @property
    def is_open(self) -> bool:
        return self._detail is not None and self._detail.status is not IncidentStatus.CLOSED

    @property
    def can_acknowledge(self) -> bool:
        return self._detail is not None and self._detail.status is IncidentStatus.NEW

    def golden_time(self) -> GoldenTime | None:
        if self._detail is None:
            return None
        return golden_time(self._detail, self._clock.now(), self.golden_overrides)

    def timeline(self) -> list[TimelineEventOut]:
        """Newest first."""
        if self._detail is None:
            return []
        return sorted(self._detail.timeline, key=lambda e: (e.at, e.id), reverse=True)

    def cameras(self) -> list[CameraOut]:
        return list(self._detail.cameras) if self._detail else []

    def camera_ids(self) -> list[str]:
        return [c.id for c in self.cameras()]

    def agency_name(self, agency_id: str) -> str:
        a = self._agencies.get(agency_id)
        return a.name if a else agency_id

    def shares(self) -> list[ShareView]:
        if self._detail is None:
            return []
        now = self._clock.now()
        views = [self._share_view(s, now) for s in self._detail.shares]
        order = {
            ShareState.PENDING: 0,
            ShareState.EXPIRING: 1,
            ShareState.ACTIVE: 2,
            ShareState.EXPIRED: 3,
            ShareState.REVOKED: 4,
        }
        return sorted(views, key=lambda v: (order[v.state], v.share.expires_at))

    def _share_view(self, share: ShareOut, now: datetime) -> ShareView:
        name = self.agency_name(share.agency_id)
        if share.status in (ShareStatus.REVOKED, ShareStatus.REJECTED) or share.revoked_at is not None:
            return ShareView(share, name, ShareState.REVOKED, 0.0, "")
        if share.status is ShareStatus.PENDING:
            return ShareView(share, name, ShareState.PENDING, 0.0, "")
        left = (share.expires_at - now).total_seconds()
        if share.status is ShareStatus.EXPIRED or left <= 0:
            return ShareView(share, name, ShareState.EXPIRED, 0.0, "")
        state = ShareState.EXPIRING if left < EXPIRING_SOON_S else ShareState.ACTIVE
        return ShareView(share, name, state, left, format_countdown(left))

    def deliveries(self) -> list[AgencyDelivery]:
        """One line per agency that has deliveries for this incident, worst state first."""
        if self._detail is None:
            return []
        by_agency: dict[str, list[Any]] = {}
        for dv in self._detail.deliveries:
            by_agency.setdefault(dv.agency_id, []).append(dv)
        out: list[AgencyDelivery] = []
        for agency_id, items in by_agency.items():
            worst = min(items, key=lambda d: (_RANK[_OF_STATE[d.state]], -d.sequence))
            state = _OF_STATE[worst.state]
            dead = tuple(
                d.id for d in sorted(items, key=lambda d: d.sequence) if d.state is DeliveryState.DEAD
            )
            out.append(
                AgencyDelivery(
                    agency_id=agency_id,
                    agency_name=self.agency_name(agency_id),
                    state=state,
                    delivered=sum(1 for d in items if d.state is DeliveryState.DELIVERED),
                    total=len(items),
                    attempts=worst.attempts,
                    last_error=worst.last_error,
                    dead_delivery_ids=dead,
                )
            )
        return sorted(out, key=lambda a: (_RANK[a.state], a.agency_name))

    def agencies_of_kind(self, kind: AgencyKind) -> list[AgencyOut]:
        return [a for a in self._agencies.values() if a.kind is kind and a.enabled]

    def default_basis(self) -> str | None:
        """The basis the settings give the shown incident's service (else the first listed)."""
        service = "" if self._detail is None else str(self._detail.service)
        for b in self.legal_bases:
            if service in b.services:
                return b.id
        return self.legal_bases[0].id if self.legal_bases else None

    def share_targets(self) -> list[AgencyOut]:
        """Agencies the operator may share with (enabled), by name."""
        return sorted((a for a in self._agencies.values() if a.enabled), key=lambda a: a.name)

"""Lawful provision as the console shows it, decided without a screen: which shares wait for whom (a
supervisor approves or rejects; an operator confirms an agency's over-cap request), and the ledger's lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.enums import Role
from app.formats.api import LedgerRowOut, ShareOut

__all__ = ["ProvisionVM"]


def _ts(value: object) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]


@dataclass
class ProvisionVM:
    role: Role
    agency_names: dict[str, str] = field(default_factory=dict)
    pending: list[ShareOut] = field(default_factory=list)
    ledger: list[LedgerRowOut] = field(default_factory=list)

    @property
    def approves(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def reads_ledger(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.AUDITOR)

    def set_pending(self, shares: list[ShareOut]) -> None:
        """Keep what this role may decide: a supervisor everything, an operator the confirmations only."""
        self.pending = [s for s in shares if self.approves or s.approval == "confirm"]

    def kind(self, share: ShareOut) -> str:
        """``extension``, ``confirm`` or ``share``: what the decision is about."""
        if share.pending_extension_minutes is not None:
            return "extension"
        return "confirm" if share.approval == "confirm" else "share"

    def pending_cells(self, share: ShareOut) -> list[str]:
        minutes = share.pending_extension_minutes or share.minutes or 0
        reason = share.pending_extension_reason or share.purpose
        return [
            _ts(share.created_at),
            self.agency_names.get(share.agency_id, share.agency_id),
            str(len(share.camera_ids)),
            str(minutes),
            share.legal_basis or "",
            reason,
            share.created_by or "",
        ]

    def ledger_cells(self, row: LedgerRowOut) -> list[str]:
        watched = sum(v.seconds or 0 for v in row.viewings)
        return [
            _ts(row.date),
            row.recipient,
            row.purpose,
            row.legal_basis,
            f"{_ts(row.period_from)} – {_ts(row.period_to)}" if row.period_from else "",
            row.form,
            row.status,
            row.approver or "",
            f"{len(row.viewings)} / {watched:.0f} s",
        ]

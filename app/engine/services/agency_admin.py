"""Shutting an agency out and rotating its credentials (admin API and ``python main.py agencies …``).

Disabling an agency, in one transaction: its key stops (authentication refuses a disabled agency; the
engine's key cache lives one second), every active share it holds is revoked (the media relay re-checks
each viewer's share every second, so its open streams end within a second), and its deliveries stay in
the outbox (the dispatcher skips a disabled agency) until it is enabled again — nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from app.engine.auth import SYSTEM, digest, new_api_key
from app.engine.context import EngineContext
from app.engine.services import notify
from app.engine.work import Work
from app.formats.webhooks import new_secret
from app.store.models import AgencyRow, IncidentRow, ShareRow

SECRET_OVERLAP = timedelta(hours=24)
_log = logging.getLogger(__name__)


def set_enabled(ctx: EngineContext, work: Work, row: AgencyRow, enabled: bool) -> int:
    """Enable or disable ``row``; returns how many shares a disable revoked."""
    revoked = 0
    was = row.enabled
    row.enabled = enabled
    row.disabled_reason = None if enabled else f"disabled by {work.principal.actor}"
    if not enabled:
        shares = list(
            work.session.scalars(
                select(ShareRow)
                .where(
                    ShareRow.agency_id == row.id,
                    ShareRow.revoked_at.is_(None),
                    ShareRow.expires_at > work.now,
                )
                .order_by(ShareRow.incident_id, ShareRow.created_at)
            )
        )
        for share in shares:
            incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
            assert incident is not None
            share.revoked_at = work.now
            work.timeline(incident.id, "share.revoked", share_id=share.id, agency=row.name, reason="disabled")
            work.audit("share.revoke", "share", share.id, incident_id=incident.id, agency_id=row.id)
            # Queued like every delivery to a disabled agency: it learns of it once enabled again.
            notify.send(ctx, work, row, incident, "share.revoked", share=share)
            work.live(
                "share.revoked", {"incident_id": incident.id, "share_id": share.id, "agency_id": row.id}
            )
            revoked += 1
    if was != enabled:
        work.audit("agency.enable" if enabled else "agency.disable", "agency", row.id, revoked_shares=revoked)
        work.live("agency.updated", {"agency_id": row.id, "enabled": enabled})
    work.session.info["outbox"] = True  # a re-enabled agency gets its backlog at once
    return revoked


def rotate_key(work: Work, row: AgencyRow, grace_minutes: float = 0.0) -> tuple[str, datetime | None]:
    """A new API key (returned once); the old one stops at once, or after ``grace_minutes``."""
    key = new_api_key()
    until: datetime | None = None
    if grace_minutes > 0:
        until = work.now + timedelta(minutes=grace_minutes)
        row.api_key_previous_hash, row.previous_key_until = row.api_key_hash, until
    else:
        row.api_key_previous_hash, row.previous_key_until = None, None
    row.api_key_hash = digest(key)
    work.audit("agency.rotate_key", "agency", row.id, grace_minutes=grace_minutes)
    work.live("agency.updated", {"agency_id": row.id})
    return key, until


def rotate_secret(work: Work, row: AgencyRow, overlap: timedelta = SECRET_OVERLAP) -> str:
    """A new webhook secret (returned once); both sign during ``overlap``, then the old one is erased."""
    erase_expired_secret(row, work.now)
    row.webhook_secret_previous = row.webhook_secret
    row.previous_secret_until = work.now + overlap
    row.webhook_secret = secret = new_secret()
    work.audit("agency.rotate_secret", "agency", row.id, overlap_s=overlap.total_seconds())
    work.live("agency.updated", {"agency_id": row.id})
    return secret


def erase_expired_secret(row: AgencyRow, now: datetime) -> bool:
    """Forget the previous webhook secret once its overlap has ended."""
    if row.webhook_secret_previous is not None and (
        row.previous_secret_until is None or row.previous_secret_until <= now
    ):
        row.webhook_secret_previous = None
        row.previous_secret_until = None
        return True
    return False


def erase_expired_secrets(work: Work) -> int:
    """Sweep: erase every previous webhook secret whose overlap ended (run by the engine periodically)."""
    n = 0
    for row in work.session.scalars(
        select(AgencyRow).where(
            AgencyRow.webhook_secret_previous.is_not(None),
            AgencyRow.previous_secret_until <= work.now,
        )
    ):
        n += erase_expired_secret(row, work.now)
    if n:
        work.audit("agency.erase_secrets", "agency", None, count=n)
    return n


class SecretSweeper:
    """Erases previous webhook secrets whose rotation overlap ended: at start, then every ``interval_s``."""

    def __init__(self, ctx: EngineContext, interval_s: float = 300.0) -> None:
        self._ctx = ctx
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    def sweep(self) -> int:
        with self._ctx.uow(SYSTEM) as work:
            return erase_expired_secrets(work)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="secret-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                _log.exception("erasing expired webhook secrets failed; trying again later")
            await asyncio.sleep(self._interval)

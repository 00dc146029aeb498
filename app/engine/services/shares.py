"""Shares: time-limited access of one agency to some cameras of one incident."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.enums import ShareStatus
from app.domain.ids import new_id, new_token
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import invalid, not_found
from app.engine.services import notify
from app.engine.views import share_out, share_status
from app.engine.work import Work
from app.formats.api import ShareIn, ShareOut
from app.store.models import AgencyRow, CameraRow, IncidentRow, ShareRow


def open_share(
    ctx: EngineContext,
    work: Work,
    incident: IncidentRow,
    agency: AgencyRow,
    camera_ids: list[str],
    minutes: int,
    purpose: str,
) -> ShareRow:
    """Create a share and queue ``share.created`` for the agency (in the caller's transaction)."""
    share = ShareRow(
        id=new_id("shr"),
        incident_id=incident.id,
        agency_id=agency.id,
        token=new_token(),
        camera_ids=list(camera_ids),
        purpose=purpose,
        created_by=work.principal.actor,
        created_at=work.now,
        expires_at=work.now + timedelta(minutes=minutes),
        revoked_at=None,
    )
    work.session.add(share)
    work.timeline(
        incident.id,
        "share.created",
        share_id=share.id,
        agency=agency.name,
        cameras=list(camera_ids),
        minutes=minutes,
    )
    work.audit(
        "share.create",
        "share",
        share.id,
        incident_id=incident.id,
        agency_id=agency.id,
        cameras=list(camera_ids),
        minutes=minutes,
        purpose=purpose,
    )
    notify.send(ctx, work, agency, incident, "share.created", share=share)
    work.live("share.created", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id})
    return share


def create_share(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str, body: ShareIn
) -> ShareOut:
    with ctx.uow(principal, client) as work:
        incident = work.session.get(IncidentRow, incident_id, with_for_update=True)
        if incident is None:
            raise not_found("incident", incident_id)
        if incident.status == "closed":
            raise invalid(f"incident {incident_id} is closed; a closed incident cannot be shared")
        agency = work.session.get(AgencyRow, body.agency_id)
        if agency is None:
            raise not_found("agency", body.agency_id)
        known = set(work.session.scalars(select(CameraRow.id).where(CameraRow.id.in_(body.camera_ids))))
        missing = [c for c in body.camera_ids if c not in known]
        if missing:
            raise invalid(f"unknown camera ids: {', '.join(missing[:10])}")
        share = open_share(
            ctx, work, incident, agency, list(dict.fromkeys(body.camera_ids)), body.minutes, body.purpose
        )
        ctx.prewarm(list(body.camera_ids))
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url)


def revoke_share(ctx: EngineContext, principal: Principal, client: str | None, share_id: str) -> ShareOut:
    with ctx.uow(principal, client) as work:
        share = work.session.get(ShareRow, share_id)
        if share is None:
            raise not_found("share", share_id)
        incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
        assert incident is not None
        if share_status(share, work.now) is ShareStatus.ACTIVE:
            share.revoked_at = work.now
            agency = work.session.get(AgencyRow, share.agency_id)
            assert agency is not None
            work.timeline(incident.id, "share.revoked", share_id=share.id, agency=agency.name)
            work.audit("share.revoke", "share", share.id, incident_id=incident.id, agency_id=agency.id)
            notify.send(ctx, work, agency, incident, "share.revoked", share=share)
            work.live(
                "share.revoked", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id}
            )
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url)


def extend_share(
    ctx: EngineContext, principal: Principal, client: str | None, share_id: str, minutes: int
) -> ShareOut:
    with ctx.uow(principal, client) as work:
        share = work.session.get(ShareRow, share_id)
        if share is None:
            raise not_found("share", share_id)
        if share.revoked_at is not None:
            raise invalid(f"share {share_id} was revoked; create a new share instead")
        incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
        assert incident is not None
        share.expires_at = max(share.expires_at, work.now) + timedelta(minutes=minutes)
        agency = work.session.get(AgencyRow, share.agency_id)
        assert agency is not None
        work.timeline(incident.id, "share.extended", share_id=share.id, minutes=minutes)
        work.audit("share.extend", "share", share.id, minutes=minutes)
        notify.send(ctx, work, agency, incident, "share.updated", share=share)
        work.live("share.updated", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id})
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url)

"""Shares: time-limited access of one agency to some cameras of one incident, on a recorded legal basis.

An operator shares alone within the policy of ``settings.provision`` (by default: to the agency that asked,
for its own incident, up to 30 minutes and 16 cameras). Anything beyond — another agency, longer, more
cameras, any extension — is a decision for a supervisor: the share is created ``pending`` (its media refuses,
the agency is told nothing) until ``approve`` makes it active (then the agency gets ``share.created``) or
``reject`` ends it with a reason. An agency's area request above its camera cap makes a share waiting for an
operator's ``confirm`` (approval ``confirm``; operators and supervisors may approve that one).

Nothing revives an expired, revoked or rejected share; a closed incident accepts no new share, extension or
approval (409); drill incidents share no real video unless ``provision.drill_real_video`` is on.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.enums import Role, ShareStatus
from app.domain.ids import new_id
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import conflict, forbidden, invalid, not_found
from app.engine.services import notify
from app.engine.views import share_out, share_status
from app.engine.work import Work, table
from app.formats.api import ShareIn, ShareOut
from app.store.driver_sql import DriverInsert
from app.store.models import AgencyRow, CameraRow, IncidentRow, ShareRow

APPROVERS = (Role.SUPERVISOR,)
_INSERT_SHARE = DriverInsert(table(ShareRow))  # built once (issue 17)


def open_share(
    ctx: EngineContext,
    work: Work,
    incident: IncidentRow,
    agency: AgencyRow,
    camera_ids: list[str],
    minutes: int,
    purpose: str,
    *,
    legal_basis: str = "",
    requesting_agency_id: str | None = None,
    requesting_officer: str = "",
    case_number: str = "",
    approval: str = "auto",
    approved_by: str | None = None,
) -> ShareRow:
    """Create a share (in the caller's transaction). An active one queues ``share.created`` for the agency;
    a waiting one (``approval`` pending or confirm) tells the consoles only."""
    waiting = approval in ("pending", "confirm")
    share_id = new_id("shr")
    salt, token_hash = ctx.mint_share_token(share_id)  # the store keeps only the token's hash
    values = {
        "id": share_id,
        "incident_id": incident.id,
        "agency_id": agency.id,
        "token_hash": token_hash,
        "token_salt": salt,
        "camera_ids": list(camera_ids),
        "purpose": purpose,
        "created_by": work.principal.actor,
        "created_at": work.now,
        "expires_at": work.now + timedelta(minutes=minutes),
        "revoked_at": None,
        "legal_basis": legal_basis,
        "requesting_agency_id": requesting_agency_id,
        "requesting_officer": requesting_officer,
        "case_number": case_number,
        "minutes": minutes,
        "approval": approval,
        "approved_by": approved_by,
        "approved_at": work.now if approved_by else None,
        "decision_reason": "",
        "ext_minutes": None,
        "ext_reason": "",
        "ext_by": None,
    }
    # One Core statement (no ORM flush); the caller gets a detached row built from the same values. Nothing
    # changes a share in the transaction that creates it.
    if work.session.new:
        work.session.flush()  # an incident or agency of this unit still pending in the ORM session
    _INSERT_SHARE(work.connection(), values)
    share = ShareRow(**values)
    if incident.id in work.new_views:  # an incident of this unit: every share it has is made here
        work.new_shares.setdefault(incident.id, []).append(share)
    work.agency_names[agency.id] = agency.name
    work.timeline(
        incident.id,
        "share.requested" if waiting else "share.created",
        share_id=share.id,
        agency=agency.name,
        cameras=list(camera_ids),
        minutes=minutes,
        legal_basis=legal_basis,
    )
    work.audit(
        "share.create",
        "share",
        share.id,
        incident_id=incident.id,
        agency_id=agency.id,
        agency=agency.name,
        cameras=list(camera_ids),
        minutes=minutes,
        purpose=purpose,
        legal_basis=legal_basis,
        requesting_agency_id=requesting_agency_id,
        requesting_officer=requesting_officer,
        case_number=case_number,
        approval=approval,
        approved_by=approved_by,
    )
    if waiting:
        work.live(
            "share.pending",
            {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id, "approval": approval},
        )
    else:
        notify.send(ctx, work, agency, incident, "share.created", share=share)
        work.live("share.created", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id})
    return share


def _open_incident(work: Work, incident_id: str) -> IncidentRow:
    incident = work.session.get(IncidentRow, incident_id, with_for_update=True)
    if incident is None:
        raise not_found("incident", incident_id)
    if incident.status == "closed":
        raise conflict(f"incident {incident_id} is closed; it accepts no new share, extension or approval")
    return incident


def check_drill(ctx: EngineContext, incident: IncidentRow) -> None:
    if incident.exercise and not ctx.settings.provision.drill_real_video:
        raise conflict(
            f"incident {incident.id} is a drill; drills share no real video (settings: provision.drill_real_video)"
        )


def within_policy(
    ctx: EngineContext, incident: IncidentRow, agency_id: str, cameras: int, minutes: int
) -> bool:
    """Whether an operator may share this alone (``settings.provision``)."""
    policy = ctx.settings.provision
    recipient_ok = policy.operator_recipient == "any" or (
        incident.agency_id is not None and agency_id == incident.agency_id
    )
    return recipient_ok and minutes <= policy.operator_max_minutes and cameras <= policy.operator_max_cameras


def create_share(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str, body: ShareIn
) -> ShareOut:
    if ctx.settings.provision.basis(body.legal_basis) is None:
        raise invalid(f"unknown legal basis {body.legal_basis!r}; see GET /api/v1/legal-bases")
    with ctx.uow(principal, client) as work:
        incident = _open_incident(work, incident_id)
        check_drill(ctx, incident)
        agency = work.session.get(AgencyRow, body.agency_id)
        if agency is None:
            raise not_found("agency", body.agency_id)
        _enabled(agency)
        known = set(work.session.scalars(select(CameraRow.id).where(CameraRow.id.in_(body.camera_ids))))
        missing = [c for c in body.camera_ids if c not in known]
        if missing:
            raise invalid(f"unknown camera ids: {', '.join(missing[:10])}")
        cameras = list(dict.fromkeys(body.camera_ids))
        if principal.has_role(*APPROVERS):
            approval, approved_by = "approved", principal.actor
        elif within_policy(ctx, incident, agency.id, len(cameras), body.minutes):
            approval, approved_by = "auto", None
        else:
            approval, approved_by = "pending", None
        share = open_share(
            ctx,
            work,
            incident,
            agency,
            cameras,
            body.minutes,
            body.purpose,
            legal_basis=body.legal_basis,
            requesting_agency_id=incident.agency_id if incident.agency_id == agency.id else None,
            requesting_officer=body.requesting_officer,
            case_number=body.case_number,
            approval=approval,
            approved_by=approved_by,
        )
        if approval != "pending":
            ctx.prewarm(cameras)
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)


def _enabled(agency: AgencyRow) -> None:
    # A disabled agency is shut out: no new video reaches it until an admin enables it again.
    if not agency.enabled:
        raise conflict(f"agency {agency.name!r} is disabled; enable it before sharing video with it")


def _share(work: Work, share_id: str) -> ShareRow:
    share = work.session.get(ShareRow, share_id)
    if share is None:
        raise not_found("share", share_id)
    return share


def revoke_share(ctx: EngineContext, principal: Principal, client: str | None, share_id: str) -> ShareOut:
    with ctx.uow(principal, client) as work:
        share = _share(work, share_id)
        incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
        assert incident is not None
        status = share_status(share, work.now)
        if status in (ShareStatus.ACTIVE, ShareStatus.PENDING):
            share.revoked_at = work.now
            share.ext_minutes, share.ext_reason, share.ext_by = None, "", None
            agency = work.session.get(AgencyRow, share.agency_id)
            assert agency is not None
            work.timeline(incident.id, "share.revoked", share_id=share.id, agency=agency.name)
            work.audit("share.revoke", "share", share.id, incident_id=incident.id, agency_id=agency.id)
            if status is ShareStatus.ACTIVE:
                notify.send(ctx, work, agency, incident, "share.revoked", share=share)
            work.live(
                "share.revoked", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id}
            )
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)


def extend_share(
    ctx: EngineContext, principal: Principal, client: str | None, share_id: str, minutes: int, reason: str
) -> ShareOut:
    """A supervisor's extension applies at once; anyone else's waits for a supervisor. Only an active share
    of an open incident can be extended: nothing revives an expired, revoked or rejected one."""
    with ctx.uow(principal, client) as work:
        share = _share(work, share_id)
        incident = _open_incident(work, share.incident_id)
        status = share_status(share, work.now)
        if status is not ShareStatus.ACTIVE:
            raise conflict(
                f"share {share_id} is {status.value}; nothing revives it, create a new share instead"
            )
        agency = work.session.get(AgencyRow, share.agency_id)
        assert agency is not None
        if not principal.has_role(*APPROVERS):
            share.ext_minutes, share.ext_reason, share.ext_by = minutes, reason, principal.actor
            work.timeline(incident.id, "share.extension.requested", share_id=share.id, minutes=minutes)
            work.audit(
                "share.extension.request",
                "share",
                share.id,
                incident_id=incident.id,
                minutes=minutes,
                reason=reason,
            )
            work.live(
                "share.pending",
                {
                    "incident_id": incident.id,
                    "share_id": share.id,
                    "agency_id": agency.id,
                    "approval": "extension",
                },
            )
            return share_out(
                share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token
            )
        _apply_extension(ctx, work, share, incident, agency, minutes, reason, requested_by=principal.actor)
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)


def _apply_extension(
    ctx: EngineContext,
    work: Work,
    share: ShareRow,
    incident: IncidentRow,
    agency: AgencyRow,
    minutes: int,
    reason: str,
    requested_by: str,
) -> None:
    share.expires_at = max(share.expires_at, work.now) + timedelta(minutes=minutes)
    share.minutes = (share.minutes or 0) + minutes
    share.ext_minutes, share.ext_reason, share.ext_by = None, "", None
    work.timeline(incident.id, "share.extended", share_id=share.id, minutes=minutes)
    work.audit(
        "share.extend",
        "share",
        share.id,
        incident_id=incident.id,
        minutes=minutes,
        reason=reason,
        requested_by=requested_by,
        approved_by=work.principal.actor,
        expires_at=share.expires_at.isoformat(),
    )
    notify.send(ctx, work, agency, incident, "share.updated", share=share)
    work.live("share.updated", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id})


def _may_decide(principal: Principal, share: ShareRow, confirming: bool) -> None:
    if confirming:
        # An agency's request above its camera cap: an operator confirms it (issue 12), or a supervisor.
        if share.approval != "confirm" or share.revoked_at is not None:
            raise conflict(f"share {share.id} is not waiting for an operator's confirmation")
        if principal.has_role(Role.OPERATOR, *APPROVERS):
            return
    elif principal.has_role(*APPROVERS):
        return
    raise forbidden("only a supervisor approves or rejects a share beyond the operator's policy")


def approve_share(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    share_id: str,
    reason: str,
    confirming: bool = False,
) -> ShareOut:
    with ctx.uow(principal, client) as work:
        share = _share(work, share_id)
        _may_decide(principal, share, confirming)
        incident = _open_incident(work, share.incident_id)
        agency = work.session.get(AgencyRow, share.agency_id)
        assert agency is not None
        status = share_status(share, work.now)
        if status is ShareStatus.PENDING:
            check_drill(ctx, incident)
            _enabled(agency)
            what = share.approval
            share.approval, share.approved_by, share.approved_at = "approved", principal.actor, work.now
            share.decision_reason = reason
            share.expires_at = work.now + timedelta(minutes=share.minutes or ctx.settings.share_minutes)
            work.timeline(incident.id, "share.approved", share_id=share.id, agency=agency.name)
            work.audit(
                "share.confirm" if confirming else "share.approve",
                "share",
                share.id,
                incident_id=incident.id,
                agency_id=agency.id,
                agency=agency.name,
                was=what,
                reason=reason,
                expires_at=share.expires_at.isoformat(),
            )
            notify.send(ctx, work, agency, incident, "share.created", share=share)
            work.live(
                "share.created", {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id}
            )
            ctx.prewarm([str(c) for c in share.camera_ids])
        elif status is ShareStatus.ACTIVE and share.ext_minutes is not None:
            _apply_extension(
                ctx, work, share, incident, agency, share.ext_minutes, share.ext_reason, share.ext_by or "?"
            )
        else:
            raise conflict(f"share {share_id} is {status.value} with nothing waiting for approval")
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)


def reject_share(
    ctx: EngineContext, principal: Principal, client: str | None, share_id: str, reason: str
) -> ShareOut:
    if not reason:
        raise invalid("a rejection needs a reason")
    with ctx.uow(principal, client) as work:
        share = _share(work, share_id)
        _may_decide(principal, share, confirming=False)
        incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
        assert incident is not None
        status = share_status(share, work.now)
        if status is ShareStatus.PENDING:
            share.approval, share.approved_by, share.approved_at = "rejected", principal.actor, work.now
            share.decision_reason = reason
            work.timeline(incident.id, "share.rejected", share_id=share.id, reason=reason)
            work.audit("share.reject", "share", share.id, incident_id=incident.id, reason=reason)
        elif share.ext_minutes is not None:
            minutes = share.ext_minutes
            share.ext_minutes, share.ext_reason, share.ext_by = None, "", None
            work.timeline(incident.id, "share.extension.rejected", share_id=share.id, reason=reason)
            work.audit(
                "share.extension.reject",
                "share",
                share.id,
                incident_id=incident.id,
                minutes=minutes,
                reason=reason,
            )
        else:
            raise conflict(f"share {share_id} is {status.value} with nothing waiting for approval")
        work.live(
            "share.updated", {"incident_id": incident.id, "share_id": share.id, "agency_id": share.agency_id}
        )
        return share_out(share, work.now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)


def list_pending(ctx: EngineContext) -> list[ShareOut]:
    """Shares waiting for a decision (pending, confirm, or an extension), oldest first."""
    now = ctx.uow.clock.now()
    with ctx.uow.read() as session:
        q = (
            select(ShareRow)
            .where(
                ((ShareRow.approval.in_(("pending", "confirm"))) | (ShareRow.ext_minutes.is_not(None)))
                & ShareRow.revoked_at.is_(None)
            )
            .order_by(ShareRow.created_at)
            .limit(500)
        )
        return [
            share_out(s, now, ctx.media_url, ctx.viewer_url, internal=True, token=ctx.share_token)
            for s in session.scalars(q)
        ]

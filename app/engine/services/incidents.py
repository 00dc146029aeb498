"""Incidents as consoles and agencies see and change them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, select

from app.domain.enums import IncidentStatus, Role
from app.domain.ids import new_id
from app.engine.agency_views import agency_incident_detail, may_read, public_incident, visible_clause
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import conflict, forbidden, invalid, not_found
from app.engine.services import notify
from app.engine.services.intake import close_incident
from app.engine.services.shares import check_drill
from app.engine.views import incident_detail, incident_out, report_out
from app.formats.api import IncidentDetailOut, IncidentOut, IncidentPatchIn, ReportIn, ReportOut
from app.store.models import AgencyRow, CameraRow, IncidentRow, ReportRow, ShareRow

REPORT_SHARE_MINUTES = 60


def list_incidents(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    *,
    status: list[str] | None,
    service: str | None,
    exercise: bool | None,
    limit: int,
) -> list[IncidentOut]:
    with ctx.uow.reading(principal, client) as work:
        q = select(IncidentRow)
        if status:
            q = q.where(IncidentRow.status.in_(status))
        if service:
            q = q.where(IncidentRow.service == service)
        if exercise is not None:
            q = q.where(IncidentRow.exercise.is_(exercise))
        if principal.kind == "agency":
            q = q.where(visible_clause(principal.id, work.now))
        # The queue's order: open before closed, then priority (1 first), then oldest first.
        q = q.order_by(
            case((IncidentRow.status == "closed", 1), else_=0), IncidentRow.priority, IncidentRow.created_at
        ).limit(limit)
        rows = work.session.scalars(q).all()
        work.audit("incident.list", "incident", None, count=len(rows), status=status, service=service)
        out = [incident_out(r, ctx.golden_time(r.service)) for r in rows]
        if principal.kind == "agency":
            out = [public_incident(o, principal.id) for o in out]
        return out


def get_incident(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str
) -> IncidentDetailOut:
    with ctx.uow.reading(principal, client) as work:
        row = work.session.get(IncidentRow, incident_id)
        if principal.kind == "agency":
            if row is None or not may_read(work.session, row, principal.id, work.now):
                raise not_found("incident", incident_id)
            work.audit("incident.read", "incident", row.id)
            return agency_incident_detail(
                work.session,
                row,
                principal.id,
                golden_time_s=ctx.golden_time(row.service),
                now=work.now,
                url=ctx.media_url,
                snapshot_url=ctx.report_snapshot_url,
                viewer=ctx.viewer_url,
                token=ctx.share_token,
            )
        if row is None:
            raise not_found("incident", incident_id)
        work.audit("incident.read", "incident", row.id)
        return incident_detail(
            work.session,
            row,
            golden_time_s=ctx.golden_time(row.service),
            now=work.now,
            url=ctx.media_url,
            snapshot_url=ctx.report_snapshot_url,
            agency_id=principal.agency_id,
            viewer=ctx.viewer_url,
            token=ctx.share_token,
        )


def patch_incident(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str, body: IncidentPatchIn
) -> IncidentOut:
    if principal.kind != "user":
        raise forbidden("only console users change incidents")
    with ctx.uow(principal, client) as work:
        row = work.session.get(IncidentRow, incident_id, with_for_update=True)
        if row is None:
            raise not_found("incident", incident_id)
        if row.status == IncidentStatus.CLOSED.value:
            raise invalid(f"incident {incident_id} is closed")
        changed: dict[str, object] = {}
        if body.status == "acknowledged" and row.status == IncidentStatus.NEW.value:
            row.status = IncidentStatus.ACKNOWLEDGED.value
            row.acknowledged_at = work.now
            changed["status"] = row.status
        if body.assignee is not None and body.assignee != row.assignee:
            row.assignee = body.assignee or None
            changed["assignee"] = row.assignee
        if body.priority is not None and body.priority != row.priority:
            if body.priority < row.priority and not principal.has_role(
                Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR
            ):
                raise forbidden("raising priority needs an operator role")
            changed["priority"] = {"from": row.priority, "to": body.priority}
            row.priority = body.priority
        if body.note is not None:
            work.timeline(row.id, "note", text=body.note)
            changed["note"] = True
        if body.status == "closed":
            close_incident(ctx, work, row, body.note or "closed by the operator")
            return incident_out(row, ctx.golden_time(row.service))
        if not changed:
            return incident_out(row, ctx.golden_time(row.service))
        row.updated_at = work.now
        for key in ("status", "assignee", "priority"):
            if key in changed:
                work.timeline(row.id, f"{key}.changed", value=changed[key])
        work.audit("incident.update", "incident", row.id, **{k: v for k, v in changed.items()})
        for agency, _share in notify.agencies_with_active_shares(work, row.id):
            notify.send(ctx, work, agency, row, "incident.updated", note=body.note)
        notify.live_incident(ctx, work, row, "incident.updated")
        return incident_out(row, ctx.golden_time(row.service))


def create_report(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str, body: ReportIn
) -> ReportOut:
    """An operator reports to an agency (e.g. a fire seen on CCTV to 119) in one step.

    With a camera, the agency also gets a share of that camera so the report's snapshot and live video open.
    """
    if principal.kind != "user":
        raise forbidden("reports are made by console users")
    with ctx.uow(principal, client) as work:
        row = work.session.get(IncidentRow, incident_id, with_for_update=True)
        if row is None:
            raise not_found("incident", incident_id)
        if row.status == IncidentStatus.CLOSED:
            raise conflict(f"incident {incident_id} is closed; it accepts no new report")
        agency = work.session.get(AgencyRow, body.agency_id)
        if agency is None:
            raise not_found("agency", body.agency_id)
        share_id = None
        if body.camera_id is not None:
            check_drill(ctx, row)
            if work.session.get(CameraRow, body.camera_id) is None:
                raise invalid(f"unknown camera id {body.camera_id!r}")
            share_id = new_id("shr")
            salt, token_hash = ctx.mint_share_token(share_id)
            share = ShareRow(
                id=share_id,
                incident_id=row.id,
                agency_id=agency.id,
                token_hash=token_hash,
                token_salt=salt,
                camera_ids=[body.camera_id],
                purpose=f"report: {body.kind}",
                created_by=principal.actor,
                created_at=work.now,
                expires_at=work.now + timedelta(minutes=REPORT_SHARE_MINUTES),
                revoked_at=None,
                # A report is the control room's own provision: the basis of the incident's service.
                legal_basis=ctx.settings.provision.basis_for_service(row.service),
                minutes=REPORT_SHARE_MINUTES,
                approval="auto",
            )
            work.session.add(share)
            share_id = share.id
        report = ReportRow(
            id=new_id("rpt"),
            incident_id=row.id,
            agency_id=agency.id,
            kind=body.kind,
            note=body.note,
            camera_id=body.camera_id,
            share_id=share_id,
            created_by=principal.actor,
            created_at=work.now,
        )
        work.session.add(report)
        work.session.flush()
        work.timeline(
            row.id,
            "report.created",
            report_id=report.id,
            agency=agency.name,
            kind=body.kind,
            camera=body.camera_id,
        )
        work.audit(
            "report.create",
            "report",
            report.id,
            incident_id=row.id,
            agency_id=agency.id,
            camera_id=body.camera_id,
        )
        notify.send(ctx, work, agency, row, "report.created", report=report)
        work.live("report.created", {"incident_id": row.id, "report_id": report.id, "agency_id": agency.id})
        out = report_out(report, ctx.report_snapshot_url(report, work.session))
    if body.camera_id is not None:
        ctx.capture_report_snapshot(report.id, body.camera_id)
    return out

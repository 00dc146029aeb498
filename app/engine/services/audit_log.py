"""Reading the append-only audit trail (supervisors and admins), as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from sqlalchemy import select

from app.domain.enums import Role
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import forbidden
from app.formats.api import AuditOut
from app.store.models import AuditRow


def query_audit(
    ctx: EngineContext,
    principal: Principal,
    client: str | None,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[AuditOut]:
    if not principal.has_role(Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        raise forbidden("the audit trail is for supervisors, admins and auditors")
    with ctx.uow.reading(principal, client) as work:
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if actor:
            q = q.where(AuditRow.actor == actor)
        if action:
            q = q.where(AuditRow.action == action)
        if target_type:
            q = q.where(AuditRow.target_type == target_type)
        if target_id:
            q = q.where(AuditRow.target_id == target_id)
        if since:
            q = q.where(AuditRow.at >= since)
        if until:
            q = q.where(AuditRow.at < until)
        rows = [AuditOut.model_validate(r) for r in work.session.scalars(q)]
        # Reading the audit trail is itself audited.
        work.audit("audit.read", "audit", None, count=len(rows), action_filter=action, target_id=target_id)
        return rows


def to_csv(rows: list[AuditOut]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "at", "actor", "action", "target_type", "target_id", "client", "detail"])
    for r in rows:
        # Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
        cells = [
            r.id,
            r.at.isoformat(),
            r.actor,
            r.action,
            r.target_type,
            r.target_id or "",
            r.client or "",
            json.dumps(r.detail, ensure_ascii=False),
        ]
        w.writerow([("'" + c) if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in cells])
    return buf.getvalue()

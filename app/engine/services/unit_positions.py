"""Dispatched units' positions, sent by an agency while it works an incident (issue #15).

Who: an agency that may read the incident (it opened it and it is open, or it holds an active share in
it, see :mod:`app.engine.agency_views`); anyone else gets 404, as for reading it. A closed incident
refuses them (409). Each unit's last position is kept per (agency, unit id) in the incident's
``details["unit_positions"]`` (at most :data:`MAX_UNITS` per incident, oldest fixes dropped first); the
console draws them on its map. Every post is audited (``incident.units``) and the consoles are told
(``incident.updated``). Another agency reading the incident sees only its own units' positions.
"""

from __future__ import annotations

from typing import Any

from app.domain.enums import IncidentStatus
from app.engine.agency_views import may_read
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import conflict, forbidden, not_found
from app.engine.services import notify
from app.formats.units import UnitPositionOut, UnitPositionsIn
from app.store.models import IncidentRow

MAX_UNITS = 200
DETAILS_KEY = "unit_positions"


def post_unit_positions(
    ctx: EngineContext, principal: Principal, client: str | None, incident_id: str, body: UnitPositionsIn
) -> list[UnitPositionOut]:
    if principal.kind != "agency":
        raise forbidden("unit positions come from an agency working the incident")
    with ctx.uow(principal, client) as work:
        row = work.session.get(IncidentRow, incident_id, with_for_update=True)
        if row is None or not may_read(work.session, row, principal.id, work.now):
            raise not_found("incident", incident_id)
        if row.status == IncidentStatus.CLOSED.value:
            raise conflict(f"incident {incident_id!r} is closed")
        details: dict[str, Any] = dict(row.details or {})
        old = details.get(DETAILS_KEY)
        kept: dict[tuple[str, str], dict[str, Any]] = {}
        for u in old if isinstance(old, list) else []:
            if isinstance(u, dict):
                kept[(str(u.get("agency_id")), str(u.get("id")))] = u
        for unit in body.units:
            at = unit.at or work.now
            kept[(principal.id, unit.id)] = {
                "id": unit.id,
                "kind": unit.kind,
                "lat": unit.lat,
                "lon": unit.lon,
                "at": at.isoformat(),
                "agency_id": principal.id,
            }
        units = sorted(kept.values(), key=lambda u: str(u.get("at")))[-MAX_UNITS:]
        details[DETAILS_KEY] = units
        row.details = details  # a new dict: the JSON column sees the change
        row.updated_at = work.now
        work.audit("incident.units", "incident", row.id, units=[u.id for u in body.units][:50])
        notify.live_incident(ctx, work, row, "incident.updated")
        return [UnitPositionOut.model_validate(u) for u in units if u.get("agency_id") == principal.id]

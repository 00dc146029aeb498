"""Operator actions on the outbox."""

from __future__ import annotations

from app.domain.enums import DeliveryState, Role
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import forbidden, invalid, not_found
from app.engine.views import delivery_out
from app.formats.api import DeliveryOut
from app.store.models import DeliveryRow


def retry_delivery(
    ctx: EngineContext, principal: Principal, client: str | None, delivery_id: str
) -> DeliveryOut:
    if not principal.has_role(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        raise forbidden("re-queuing a delivery needs a console user")
    with ctx.uow(principal, client) as work:
        row = work.session.get(DeliveryRow, delivery_id)
        if row is None:
            raise not_found("delivery", delivery_id)
        if row.state != DeliveryState.DEAD.value:
            raise invalid(
                f"delivery {delivery_id} is {row.state}; only dead-lettered deliveries are re-queued"
            )
        row.state = DeliveryState.RETRYING.value
        row.next_attempt_at = work.now
        row.claimed_by = row.claimed_until = None
        work.audit("delivery.retry", "delivery", row.id, agency_id=row.agency_id, incident_id=row.incident_id)
        work.timeline(row.incident_id, "delivery.requeued", delivery_id=row.id, agency_id=row.agency_id)
        work.live(
            "delivery.updated",
            {
                "delivery_id": row.id,
                "incident_id": row.incident_id,
                "agency_id": row.agency_id,
                "state": row.state,
            },
        )
        work.session.info["outbox"] = True
        return delivery_out(row)

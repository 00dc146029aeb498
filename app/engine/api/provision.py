"""Lawful provision: the legal bases, approval of shares beyond the operator's policy, the provision ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import forbidden
from app.engine.services import ledger, shares
from app.formats.api import Identifier, LedgerRowOut, LegalBasisOut, ShareDecisionIn, ShareOut

router = APIRouter(prefix="/api/v1", tags=["provision"])
Id = Annotated[Identifier, Path()]


@router.get("/legal-bases", response_model=list[LegalBasisOut])
def legal_bases(ctx: Ctx, principal: Caller) -> list[LegalBasisOut]:
    """The legal bases a share may name (``legal_basis``), from the settings (``provision.legal_bases``)."""
    provision = ctx.settings.provision
    return [
        LegalBasisOut(
            **b.model_dump(), services=sorted(str(s) for s, v in provision.service_basis.items() if v == b.id)
        )
        for b in provision.legal_bases
    ]


@router.get("/shares/pending", response_model=list[ShareOut])
def pending_shares(ctx: Ctx, principal: Caller) -> list[ShareOut]:
    """Shares waiting for a decision: a supervisor's approval, an operator's confirmation, or an extension."""
    if principal.kind != "user":
        raise forbidden("pending shares are for console users")
    return shares.list_pending(ctx)


@router.post("/shares/{share_id}/approve", response_model=ShareOut)
def approve_share(
    share_id: Id, ctx: Ctx, principal: Caller, client: Client, body: ShareDecisionIn | None = None
) -> ShareOut:
    """A supervisor approves a pending share (it becomes active and the agency is told) or a pending
    extension. Operators cannot approve."""
    return shares.approve_share(ctx, principal, client, share_id, "" if body is None else body.reason)


@router.post("/shares/{share_id}/confirm", response_model=ShareOut)
def confirm_share(
    share_id: Id, ctx: Ctx, principal: Caller, client: Client, body: ShareDecisionIn | None = None
) -> ShareOut:
    """An operator (or supervisor) confirms an agency's area request above its automatic camera cap."""
    return shares.approve_share(
        ctx, principal, client, share_id, "" if body is None else body.reason, confirming=True
    )


@router.post("/shares/{share_id}/reject", response_model=ShareOut)
def reject_share(
    share_id: Id, body: ShareDecisionIn, ctx: Ctx, principal: Caller, client: Client
) -> ShareOut:
    """A supervisor rejects a pending share or extension, with a reason."""
    return shares.reject_share(ctx, principal, client, share_id, body.reason)


@router.get("/ledger", response_model=list[LedgerRowOut])
def read_ledger(
    ctx: Ctx,
    principal: Caller,
    client: Client,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> list[LedgerRowOut] | Response:
    """The use-and-provision ledger (개인영상정보 이용·제공 관리대장): one row per provision."""
    rows = ledger.read_ledger(ctx, principal, client, since, until, limit)
    if format == "csv":
        return Response(
            ledger.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="ledger.csv"'},
        )
    return rows

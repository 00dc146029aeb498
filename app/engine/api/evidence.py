"""``GET /api/v1/incidents/{id}/evidence``: the incident's signed evidence bundle (app/engine/evidence.py),
for supervisors and auditors; every export is audited with the SHA-256 of the manifest given out."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from app.domain.enums import Role
from app.engine.api.deps import Caller, Client, Ctx
from app.engine.errors import forbidden, not_found
from app.engine.evidence import export_bundle
from app.formats.api import Identifier
from app.store import audit_checkpoint

router = APIRouter(prefix="/api/v1", tags=["provision"])
Id = Annotated[Identifier, Path()]
EXPORTERS = (Role.SUPERVISOR, Role.AUDITOR)


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    try:
        fh.seek(0)
        while chunk := fh.read(1 << 16):
            yield chunk
    finally:
        fh.close()


@router.get(
    "/incidents/{incident_id}/evidence",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "the evidence bundle (zip)"}},
)
def incident_evidence(incident_id: Id, ctx: Ctx, principal: Caller, client: Client) -> StreamingResponse:
    """The evidence bundle of one incident: EIDO, timeline, shares with legal basis and decisions, viewings,
    snapshots, audit rows with the chain proof, and a signed manifest; check it with
    ``python main.py incident verify FILE.zip``."""
    if principal.kind != "user" or not principal.has_role(*EXPORTERS):
        raise forbidden("evidence bundles are for supervisors and auditors")
    key = audit_checkpoint.signing_key(ctx.settings.data_dir)
    fh = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    try:
        with ctx.uow.read() as session:
            summary = export_bundle(
                session, ctx.settings, incident_id, fh, key=key, actor=principal.actor, now=ctx.now()
            )
    except LookupError:
        fh.close()
        raise not_found("incident", incident_id) from None
    except BaseException:
        fh.close()
        raise
    with ctx.uow(principal, client) as work:
        work.audit(
            "incident.export",
            "incident",
            incident_id,
            manifest_sha256=summary.manifest_sha256,
            files=summary.files,
            audit_rows=summary.audit_rows,
        )
    name = f"evidence-{incident_id}.zip"
    return StreamingResponse(
        _chunks(fh),
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "x-manifest-sha256": summary.manifest_sha256,
            "x-key-fingerprint": summary.key_fingerprint,
        },
    )

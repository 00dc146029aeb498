"""The evidence bundle of one incident (``incident export`` / ``incident verify``) beside a full ``audit verify``.

An incident with one share is followed by ``--rows`` audit rows (default 100,000), one in ten a viewing of the
incident's share, the rest about other incidents. Timed in the same run on the same SQLite database:

* ``export``: :func:`app.engine.evidence.export_bundle` into memory (the incident's rows with their hashes, the
  chain links of every row after the incident's first, a signed checkpoint, the other files, the manifest);
* ``verify``: :func:`app.engine.evidence.verify_bundle` of that zip (no database);
* ``reference``: ``audit_chain.verify`` — what ``python main.py audit verify`` does — over the same chain.

    .venv/bin/python bench/bench_evidence.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.clock import SystemClock
from app.domain.enums import AgencyKind, DeliveryFormat, Service
from app.domain.geo import GeoPoint
from app.engine.auth import Principal
from app.engine.context import CameraCatalog, EngineContext
from app.engine.evidence import export_bundle, verify_bundle
from app.engine.services.directory import create_agency
from app.engine.services.intake import NewIncident, open_incident
from app.engine.services.shares import open_share
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.formats.api import AgencyIn
from app.store import audit_chain, audit_checkpoint
from app.store.database import Database
from app.store.models import AgencyRow

ADMIN = Principal(kind="system", id="bench", name="bench")


def seed(ctx: EngineContext, rows: int) -> str:
    uow = ctx.uow
    with uow(ADMIN) as work:
        out = create_agency(
            work.session,
            AgencyIn(
                name="Jinju 112",
                kind=AgencyKind.POLICE,
                format=DeliveryFormat.JSON,
                endpoint="https://x.example/h",
            ),
            ctx.settings.outbox,
            work.now,
        )
    with uow(ADMIN) as work:
        agency = work.session.get(AgencyRow, out.id)
        assert agency is not None
        incident, _ = open_incident(
            ctx,
            work,
            NewIncident(
                service=Service.EMERGENCY_VIDEO_112,
                title="bench",
                point=GeoPoint(35.18, 128.08),
                address=None,
                area=None,
                area_json=None,
                priority=1,
                exercise=False,
                details={},
                external_id="B-1",
                agency=agency,
                source="bench",
            ),
            [],
        )
        share = open_share(
            ctx, work, incident, agency, ["CAM-1", "CAM-2"], 30, "bench", legal_basis="pipa-18-2-3"
        )
        iid, sid = incident.id, share.id
    now = ctx.now()
    for start in range(0, rows, 2000):
        with uow.writing() as s:
            batch = []
            for i in range(start, min(rows, start + 2000)):
                ours = i % 10 == 0
                batch.append(
                    dict(
                        at=now,
                        actor="agency:Jinju 112" if ours else f"user:op{i % 7}",
                        action="video.view" if ours else "incident.read",
                        target_type="camera" if ours else "incident",
                        target_id="CAM-1" if ours else f"INC-other-{i}",
                        client="10.0.0.9",
                        detail={
                            "from": (now - timedelta(seconds=60)).isoformat(),
                            "to": now.isoformat(),
                            "share_id": sid,
                            "kind": "share",
                            "bytes": 1000 + i,
                        }
                        if ours
                        else {},
                    )
                )
            audit_chain.add_audit(s, batch)
    return iid


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'bench.db'}"
        db = Database(url)
        db.migrate()
        uow = UnitOfWorkFactory(db, SystemClock())
        settings = Settings(db_url=url, data_dir=data)
        ctx = EngineContext(
            settings=settings,
            clock=SystemClock(),
            uow=uow,
            cameras=CameraCatalog(uow.read),
            base_url=lambda: "",
        )
        iid = seed(ctx, args.rows)
        key = audit_checkpoint.signing_key(data)

        t0 = time.perf_counter()
        with uow.read() as session:
            n, problems, _ = audit_chain.verify(session)
        reference = time.perf_counter() - t0
        assert not problems

        buf = io.BytesIO()
        t0 = time.perf_counter()
        with uow.read() as session:
            summary = export_bundle(session, settings, iid, buf, key=key, actor="bench", now=ctx.now())
        export = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = verify_bundle(io.BytesIO(buf.getvalue()))
        verify = time.perf_counter() - t0
        assert report.ok, report.problems

        print(
            f"audit rows in the chain: {n}; the incident's rows: {summary.audit_rows}; links: {summary.chain_links}"
        )
        print(f"bundle: {len(buf.getvalue()) / 1e6:.1f} MB, {summary.files} files")
        print(f"reference (audit verify, whole chain): {reference:.2f} s")
        print(f"export: {export:.2f} s = {export / reference:.2f}x the reference")
        print(f"verify (offline): {verify:.2f} s = {verify / reference:.2f}x the reference")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

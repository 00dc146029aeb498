"""What the lawful-provision audit costs (issue 13), as ratios against references run in the same script.

    .venv/bin/python bench/bench_audit.py [--admissions 300] [--rows 20000]

1. *Viewer admission*: the media access check that admits a viewer (a share token) now commits a
   ``video.view.start`` row before the first byte. Reference: the same check without admitting (what the
   engine's redirects do), on the same engine. Printed: p50 of each and their ratio.
2. *Retention holds the writer briefly*: ``retention run`` deletes ``--rows`` live events in batches of 500;
   printed: the longest batch transaction against one intake request's whole round trip (the reference),
   measured on the same engine right before.

SQLite in a temporary data dir; the engine runs in this process (its media process is not needed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from app.domain.enums import AgencyKind  # noqa: E402
from app.engine.services import retention as retention_mod  # noqa: E402
from app.store.models import LiveEventRow  # noqa: E402
from tests.engine.conftest import grid_cameras, request_body, start_engine  # noqa: E402


def _p50(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--admissions", type=int, default=300)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        e = start_engine(Path(tmp))
        try:
            e.add_cameras(grid_cameras())
            police = e.add_agency("Jinju 112", AgencyKind.POLICE)
            r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("B-1"))
            share = r.json()["shares"][0]
            cam = share["camera_ids"][0]
            token = share["urls"][cam].split("/media/")[1].split("/")[0]
            media = e.server.media
            admit, check = [], []
            for i in range(args.admissions * 2):
                access = media.access if i % 2 else media.checker
                t0 = time.perf_counter()
                access._authorize(token, cam, "127.0.0.1")
                (admit if i % 2 else check).append(time.perf_counter() - t0)
            a, c = _p50(admit), _p50(check)
            print(
                f"admission p50: check only {c * 1e3:.2f} ms, admit + start row {a * 1e3:.2f} ms, ratio {a / c:.2f}"
            )

            intake = []
            for i in range(20):
                t0 = time.perf_counter()
                e.http.post("/api/v1/requests", headers=police.headers, json=request_body(f"B-R{i}"))
                intake.append(time.perf_counter() - t0)
            ref = _p50(intake)
            old = datetime.now(UTC) - timedelta(days=30)
            with e.server.uow.writing() as s:
                s.execute(insert(LiveEventRow), [{"at": old, "type": "x", "data": {}}] * args.rows)
            holds: list[float] = []
            real = retention_mod._in_batches

            def timed(uow, batch, pick, drop):  # type: ignore[no-untyped-def]
                def drop_timed(s, ids):  # type: ignore[no-untyped-def]
                    t0 = time.perf_counter()
                    drop(s, ids)
                    s.flush()
                    holds.append(time.perf_counter() - t0)

                return real(uow, batch, pick, drop_timed)

            retention_mod._in_batches = timed  # type: ignore[assignment]
            t0 = time.perf_counter()
            out = e.server.retention.retention.run(datetime.now(UTC))
            total = time.perf_counter() - t0
            retention_mod._in_batches = real
            print(
                f"retention: {out.deleted['live_events']['count']} live events in {total:.2f} s, "
                f"{len(holds)} batches; longest batch delete {max(holds) * 1e3:.1f} ms vs one intake request "
                f"p50 {ref * 1e3:.1f} ms: ratio {max(holds) / ref:.2f}"
            )
        finally:
            e.close()


if __name__ == "__main__":
    main()

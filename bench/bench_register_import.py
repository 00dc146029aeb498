"""Importing a 50,000-camera register (parse + write), beside a plain ``executemany`` of the same rows.

The register is seeded and made in the 2020- layout (개방자치단체코드, 관리번호, one row per camera, CP949),
spread over 16 providers around Daejeon. Three things are timed in the same run, on a fresh database each:

* ``import``: `parse_cameras` on the file's bytes, then `import_cameras` in one unit of work (what
  ``python main.py cameras import FILE`` does, audit row and live event included);
* ``re-import``: the same file again (every camera compared, nothing to write);
* ``new edition``: the next edition with ``sync`` (every row's 데이터기준일자 changed: 50,000 updates);
* ``reference``: the DBAPI's ``executemany`` of one INSERT with the same column values, into the same
  migrated schema, in one transaction — what a bare bulk load costs on this database.

    .venv/bin/python bench/bench_register_import.py [--cameras 50000] [--pg URL]

With ``--pg`` (or ``$GOLDENTIME_TEST_PG``, an admin URL of a throwaway cluster) PostgreSQL is measured too,
in a fresh database.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from app.domain.camera_import import parse_cameras
from app.domain.clock import SystemClock
from app.engine.auth import Principal
from app.engine.context import CameraCatalog, EngineContext
from app.engine.services.camera_register import _values, import_cameras
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.store.database import Database
from app.store.models import CameraRow

HEADER = (
    "개방자치단체코드,관리번호,관리기관명,소재지도로명주소,소재지지번주소,설치목적구분,카메라대수,카메라화소수,"
    "촬영방면정보,보관일수,설치연월,관리기관전화번호,WGS84위도,WGS84경도,데이터기준일자,데이터갱신구분,"
    "데이터갱신시점,최종수정시점"
)
PURPOSES = (
    "생활방범",
    "다목적",
    "어린이보호",
    "교통단속",
    "재난재해",
    "시설물관리",
    "쓰레기단속",
    "차량방범",
)


def make_register(n: int, seed: int = 19) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADER.split(","))
    for i in range(n):
        p = i % 16
        code = f"{3000000 + p * 10000}"
        w.writerow(
            [
                code,
                f"2026{code}{i:08d}",
                f"대전광역시 {p}구청",
                f"대전광역시 {p}구 {rng.randint(1, 400)}번길 {rng.randint(1, 99)}",
                f"대전광역시 {p}구 {rng.randint(1, 60)}동 {rng.randint(1, 999)}-{rng.randint(1, 40)}",
                rng.choice(PURPOSES),
                1,
                rng.choice((130, 200, 400, 500)),
                "360도 전방면",
                30,
                f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}",
                "042-000-0000",
                f"{36.2 + rng.uniform(0.0, 0.3):.7f}",
                f"{127.25 + rng.uniform(0.0, 0.3):.7f}",
                "2026-05-20",
                "I",
                "2026-05-21 01:00:00",
                "2026-05-20 15:00:00",
            ]
        )
    return out.getvalue().encode("cp949")


def context(url: str) -> EngineContext:
    db = Database(url)
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    settings = Settings(db_url=url)
    return EngineContext(
        settings=settings, clock=SystemClock(), uow=uow, cameras=CameraCatalog(uow.read), base_url=lambda: ""
    )


def timed_import(url: str, data: bytes, again: bool) -> tuple[float, float, float, float, int]:
    ctx = context(url)
    principal = Principal(kind="system", id="bench", name="bench")
    times = []
    edition = data.decode("cp949").replace("2026-05-20", "2027-01-31").encode("cp949")
    for i, body in enumerate([data, data, edition] if again else [data]):
        t0 = time.perf_counter()
        result = parse_cameras(body, "bench.csv")
        t1 = time.perf_counter()
        with ctx.uow(principal) as work:
            out = import_cameras(ctx, work, result, "bench.csv", sync=i == 2)
        t2 = time.perf_counter()
        times.append((t1 - t0, t2 - t1))
        assert i != 2 or len(out.changed) == len(result.cameras)
    with ctx.uow.read() as s:
        count = int(s.scalar(select(func.count(CameraRow.id))) or 0)
    ctx.uow.db.dispose()
    first = times[0]
    reimport = sum(times[1]) if again else 0.0
    new_edition = sum(times[2]) if again else 0.0
    return first[0], first[1], reimport, new_edition, count


def timed_reference(url: str, data: bytes) -> tuple[float, int]:
    """The same rows (the same column values the import writes) with one DBAPI executemany."""
    db = Database(url)
    db.migrate()
    cams = parse_cameras(data, "bench.csv").cameras
    now = SystemClock().now().replace(tzinfo=None)
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "online": True,
            "updated_at": now,
            "retired_at": None,
            **_values(c, True),
            **_values(c, False),
        }
        for c in cams
    ]
    cols = list(rows[0])
    marks = ", ".join(f":{c}" if db.is_sqlite else f"%({c})s" for c in cols)
    sql = f"INSERT INTO cameras ({', '.join(cols)}) VALUES ({marks})"
    t0 = time.perf_counter()
    with db.write.begin() as conn:
        conn.exec_driver_sql(sql, rows)  # a list of parameter sets: the DBAPI's executemany
    dt = time.perf_counter() - t0
    with db.write.connect() as conn:
        count = int(conn.exec_driver_sql("SELECT count(*) FROM cameras").scalar() or 0)
    db.dispose()
    return dt, count


def fresh_pg(admin_url: str) -> str:
    import psycopg

    name = f"gt_bench_{uuid.uuid4().hex[:10]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=50_000)
    ap.add_argument("--pg", default=os.environ.get("GOLDENTIME_TEST_PG"))
    args = ap.parse_args()
    data = make_register(args.cameras)
    print(f"register: {args.cameras} cameras, {len(data) / 1e6:.1f} MB CP949")
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex}.db"))
        if args.pg:
            targets.append(("PostgreSQL", lambda: fresh_pg(args.pg)))
        for name, url in targets:
            parse_s, write_s, again_s, edition_s, n = timed_import(url(), data, again=True)
            ref_s, m = timed_reference(url(), data)
            assert n == m == args.cameras, (n, m)
            total = parse_s + write_s
            print(
                f"{name:10s} import {total:5.2f} s (parse {parse_s:4.2f} s + write {write_s:4.2f} s), "
                f"{args.cameras / total:,.0f} cameras/s; re-import unchanged {again_s:4.2f} s; "
                f"new edition (--sync, all changed) {edition_s:4.2f} s; "
                f"reference executemany {ref_s:4.2f} s → write/reference {write_s / ref_s:4.1f}×, "
                f"import/reference {total / ref_s:4.1f}×; target < 5 s: {'met' if total < 5 else 'NOT met'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

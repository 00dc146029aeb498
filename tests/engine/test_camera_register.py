"""Camera registers through the engine's services on a real engine (SQLite and PostgreSQL): a newer edition
imported with ``sync`` leaves exactly the new edition; removed cameras leave their shares and the walls."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from app.domain.camera_import import ImportResult, parse_cameras
from app.domain.enums import AgencyKind
from app.engine.services.camera_register import ImportOutcome, import_cameras
from app.store.models import AuditRow, CameraRow, LiveEventRow, ShareRow
from tests.engine.conftest import ADMIN, EngineUnderTest, request_body

REGISTERS = Path(__file__).resolve().parent.parent / "data" / "registers"


def _records(name: str) -> tuple[list[str], list[list[str]]]:
    text = (REGISTERS / name).read_bytes().decode("cp949")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, rows


def _encode(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("cp949")


def _import(
    engine: EngineUnderTest, result: ImportResult, *, sync: bool, dry_run: bool = False
) -> ImportOutcome:
    with engine.server.uow(ADMIN) as work:
        out = import_cameras(engine.server.ctx, work, result, "edition.csv", sync=sync, dry_run=dry_run)
    engine.server.ctx.cameras.refresh(force=True)
    return out


def _active(engine: EngineUnderTest) -> dict[str, tuple[float, float, str]]:
    with engine.server.uow.read() as s:
        return {
            r.id: (r.lat, r.lon, r.name)
            for r in s.scalars(select(CameraRow).where(CameraRow.retired_at.is_(None)))
        }


def test_a_newer_edition_with_sync_leaves_exactly_the_new_edition(engine: EngineUnderTest) -> None:
    header, rows = _records("daejeon_2026_cp949.csv")
    col = {h: i for i, h in enumerate(header)}
    old = parse_cameras(_encode(header, rows), "old.csv")
    exact = {c.register.register_no for c in old.cameras if c.register and not c.approximate}

    def pick(pred: object, taken: set[int]) -> int:
        for i, r in enumerate(rows):
            if i not in taken and r[col["관리번호"]] in exact and pred(r):  # type: ignore[operator]
                taken.add(i)
                return i
        raise AssertionError("no such row in the register")

    taken: set[int] = set()
    lowered = pick(lambda r: int(r[col["카메라대수"]]) >= 3, taken)
    moved = pick(lambda r: r[col["카메라대수"]] == "1", taken)
    renamed = pick(lambda r: r[col["카메라대수"]] == "2", taken)
    deleted = pick(lambda r: r[col["카메라대수"]] == "1", taken)
    new_rows = [list(r) for r in rows]
    new_rows[lowered][col["카메라대수"]] = str(int(rows[lowered][col["카메라대수"]]) - 1)
    new_rows[moved][col["WGS84위도"]] = f"{float(rows[moved][col['WGS84위도']]) + 0.002:.7f}"
    new_rows[renamed][col["소재지도로명주소"]] = "대전광역시 새이름로 1"
    for r in new_rows:
        r[col["데이터기준일자"]] = "2027-01-31"
    del new_rows[deleted]
    new = parse_cameras(_encode(header, new_rows), "new.csv")

    def ids_of(i: int) -> list[str]:
        number = rows[i][col["관리번호"]]
        return sorted(c.id for c in old.cameras if c.register and c.register.register_no == number)

    _import(engine, old, sync=True)
    assert set(_active(engine)) == {c.id for c in old.cameras}

    # An incident at the deleted site: its camera is chosen and shared with the requesting agency.
    police = engine.add_agency("대전 112", AgencyKind.POLICE)
    lat, lon = float(rows[deleted][col["WGS84위도"]]), float(rows[deleted][col["WGS84경도"]])
    r = engine.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("E-1", location={"lat": lat, "lon": lon}),
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    gone_camera = ids_of(deleted)[0]
    assert gone_camera in [c["id"] for c in incident["cameras"]]
    op = engine.add_user()
    lowered_last = ids_of(lowered)[-1]
    wall = engine.http.put(
        "/api/v1/walls/WALL-1",
        headers=op,
        json={"layout": {"grid": 4, "tiles": [gone_camera, ids_of(moved)[0], lowered_last]}},
    )
    assert wall.status_code == 200, wall.text
    # The incident takes the wall over (its cameras, the deleted one among them); the layout it replaced
    # is kept for "release".
    took = engine.http.post(
        "/api/v1/walls/WALL-1/takeover", headers=op, json={"incident_id": incident["incident"]["id"]}
    )
    assert took.status_code == 200, took.text
    assert gone_camera in took.json()["tiles"]

    # A dry run says what would happen and writes nothing.
    before = _active(engine)
    dry = _import(engine, new, sync=True, dry_run=True)
    assert _active(engine) == before

    out = _import(engine, new, sync=True)
    assert dry.summary() == out.summary()
    assert sorted(out.removed) == sorted([lowered_last, *ids_of(deleted)])
    assert sorted(out.moved) == ids_of(moved)
    # The renamed site; every other row only changed its 데이터기준일자 (kept on the camera).
    assert set(ids_of(renamed)) <= set(out.changed)
    assert out.added == [] and out.unchanged == 0
    assert len(out.changed) + len(out.moved) == len(new.cameras)

    # Exactly the new edition, field by field.
    assert _active(engine) == {c.id: (c.lat, c.lon, c.name) for c in new.cameras}
    with engine.server.uow.read() as s:
        renamed_row = s.get(CameraRow, ids_of(renamed)[0])
        assert renamed_row is not None and renamed_row.road_address == "대전광역시 새이름로 1"
        assert renamed_row.data_date == "2027-01-31"
        # The share no longer holds the removed camera (revoked if it held nothing else).
        share = s.scalars(select(ShareRow).where(ShareRow.incident_id == incident["incident"]["id"])).one()
        assert gone_camera not in share.camera_ids
        if not share.camera_ids:
            assert share.revoked_at is not None
        retired = {a.target_id for a in s.scalars(select(AuditRow).where(AuditRow.action == "camera.retire"))}
        assert retired == set(out.removed)
        live = [e.type for e in s.scalars(select(LiveEventRow).order_by(LiveEventRow.seq))]
        assert "cameras.imported" in live and "wall.updated" in live
        assert ("share.updated" in live) or ("share.revoked" in live)
    assert out.shares_updated + out.shares_revoked == 1 and out.walls_updated == 1

    # The wall lost the removed cameras and kept the moved one.
    tiles = engine.http.get("/api/v1/walls/WALL-1", headers=op).json()["tiles"]
    assert tiles and gone_camera not in tiles
    released = engine.http.post("/api/v1/walls/WALL-1/release", headers=op)
    assert released.status_code == 200, released.text
    assert released.json()["tiles"] == [None, ids_of(moved)[0], None]
    # The camera API says it is retired; a new incident there no longer chooses it.
    cam = engine.http.get(f"/api/v1/cameras/{gone_camera}", headers=op).json()
    assert cam["retired"] is True and cam["register_entry"]["provider"]
    listed = engine.http.get("/api/v1/cameras", headers=op, params={"limit": 1000}).json()
    assert gone_camera not in {c["id"] for c in listed}
    near = engine.http.get(
        "/api/v1/cameras", headers=op, params={"near": f"{lat},{lon}", "radius_m": 50}
    ).json()
    assert gone_camera not in {c["id"] for c in near}
    again = engine.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("E-2", location={"lat": lat, "lon": lon}),
    )
    assert gone_camera not in [c["id"] for c in again.json()["cameras"]]

    # The same edition again changes nothing.
    same = _import(engine, new, sync=True)
    assert same.unchanged == len(new.cameras) and not (
        same.added or same.changed or same.moved or same.removed
    )


def test_register_fields_and_approximate_flag_in_the_camera_api(engine: EngineUnderTest) -> None:
    result = parse_cameras((REGISTERS / "daejeon_2026_cp949.csv").read_bytes(), "d.csv")
    _import(engine, result, sync=False)
    op = engine.add_user()
    exact = next(c for c in result.cameras if not c.approximate)
    approx = next(c for c in result.cameras if c.approximate)
    body = engine.http.get(f"/api/v1/cameras/{exact.id}", headers=op).json()
    assert exact.register is not None
    assert body["approximate"] is False and body["retired"] is False
    reg = body["register_entry"]
    assert reg["provider"] == exact.register.provider and reg["register_no"] == exact.register.register_no
    assert reg["retention_days"] == exact.register.retention_days and reg["phone"] == exact.register.phone
    assert engine.http.get(f"/api/v1/cameras/{approx.id}", headers=op).json()["approximate"] is True
    # Nearest-camera selection at the stacked point never picks the stack.
    police = engine.add_agency("대전 112", AgencyKind.POLICE)
    r = engine.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("S-1", location={"lat": approx.lat, "lon": approx.lon}),
    )
    assert r.status_code == 201, r.text
    assert all(not c["approximate"] for c in r.json()["cameras"])
    # The camera search lists the stack after every exact camera, flagged.
    near = engine.http.get(
        "/api/v1/cameras",
        headers=op,
        params={"near": f"{approx.lat},{approx.lon}", "radius_m": 50_000, "limit": 5000},
    ).json()
    flags = [c["approximate"] for c in near]
    assert True in flags and False in flags and flags == sorted(flags)


def test_bulk_writes_seal_stream_urls_and_read_back(engine: EngineUnderTest) -> None:
    """Imports write with COPY / the DBAPI directly: stream URLs must still be sealed at rest."""
    from sqlalchemy import text

    csv_text = "id,name,lat,lon,purpose,stream_main,stream_sub\n" + "".join(
        f"S-{i},cam {i},35.18,128.0{i},crime,rtsp://admin:pw{i}@10.0.0.{i}/main,rtsp://admin:pw{i}@10.0.0.{i}/sub\n"
        for i in range(1, 4)
    )
    first = parse_cameras(csv_text.encode(), "s.csv")
    _import(engine, first, sync=False)
    second = parse_cameras(csv_text.replace("/main", "/main2").encode(), "s.csv")
    out = _import(engine, second, sync=False)
    assert len(out.changed) == 3  # the bulk update path
    with engine.server.uow.read() as s:
        raw = s.execute(text("SELECT stream_main, stream_sub FROM cameras WHERE id LIKE 'S-%'")).all()
        assert raw and all(v.startswith("gtenc1:") for row in raw for v in row)
        row = s.get(CameraRow, "S-2")
        assert row is not None and row.stream_main == "rtsp://admin:pw2@10.0.0.2/main2"
        assert row.updated_at.tzinfo is not None

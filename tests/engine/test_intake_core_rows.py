"""Intake writes its rows as dicts with one Core statement per table (issue 17: no ORM flush on the path).

These tests hold that path to what the ORM path wrote before: a deterministic scenario's rows and answers
equal those recorded from main before the change (on SQLite and PostgreSQL). And a unit of a group commit
that fails after writing its incident leaves nothing of it, while the others of its group are kept.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.enums import AgencyKind, Service
from app.domain.geo import GeoPoint
from app.engine.services.intake import NewIncident, open_incident
from app.store import audit_chain
from app.store.models import AgencyRow
from tests.engine import intake_rows_scenario
from tests.engine.conftest import (
    ADMIN,
    JINJU,
    PG_ADMIN_URL,
    EngineUnderTest,
    fresh_pg_database,
    grid_cameras,
    start_engine,
)

_GOLDEN = Path(__file__).parent / "data" / "intake_rows_orm.json"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_ADMIN_URL:
        pytest.skip("no PostgreSQL (set GOLDENTIME_TEST_PG; the test setup does)")
    return str(request.param)


def test_every_row_and_answer_of_an_intake_equal_what_the_orm_path_wrote(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New requests of every service (a facility, track points, a drill, a share over the agency's cap), a
    repeat and a conflict, a CAP alert and its repeat: the incidents, cameras, facilities, track points, shares, deliveries, timeline,
    audit rows (with their chain hashes) and live events, and every answer, are those the ORM path wrote
    for the same scenario (recorded from main before the change, tests/engine/intake_rows_scenario.py)."""
    got = intake_rows_scenario.run(
        tmp_path, fresh_pg_database() if backend == "postgresql" else None, monkeypatch
    )
    want = json.loads(_GOLDEN.read_text())
    assert [o.get("status") for o in got["outcomes"]] == [None, None, None, 409, None, None, None, None]
    assert [o.get("created") for o in got["outcomes"]][-2:] == [True, False]  # the CAP alert, its repeat
    assert any(s["approval"] == "confirm" for s in got["shares"])  # the over-cap share is in it
    for name in ("outcomes", *intake_rows_scenario.TABLES):
        assert got[name] == want[name], name


def _centre() -> dict[str, float]:
    return {"lat": JINJU[0], "lon": JINJU[1]}


def _wait(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class _Boom(RuntimeError):
    pass


def test_a_unit_failing_after_its_incident_was_written_leaves_nothing_and_its_group_keeps_the_others(
    tmp_path: Path,
) -> None:
    e: EngineUnderTest = start_engine(tmp_path)
    try:
        e.add_cameras(grid_cameras(n_side=6))
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        ctx, uow = e.server.ctx, e.server.uow
        group = uow.group
        assert group is not None
        group._max_age_s = 30.0  # this test decides who joins the group, not the 50 ms bound
        commits = group.commits
        holding, release = threading.Event(), threading.Event()
        made: dict[str, str] = {}
        errors: list[BaseException] = []

        def unit(name: str, fail: bool = False, hold: bool = False) -> None:
            try:
                with uow(ADMIN) as work:
                    agency = work.session.get(AgencyRow, police.id)
                    incident, shares = open_incident(
                        ctx,
                        work,
                        NewIncident(
                            service=Service.EMERGENCY_VIDEO_112,
                            title=name,
                            point=GeoPoint(*JINJU),
                            address=None,
                            area=None,
                            area_json=None,
                            priority=3,
                            exercise=False,
                            details={},
                            external_id=name,
                            agency=agency,
                            source="test",
                        ),
                    )
                    assert shares
                    made[name] = incident.id
                    if hold:
                        holding.set()
                        assert release.wait(20)
                    if fail:
                        raise _Boom(name)
            except _Boom:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        first = threading.Thread(target=unit, args=("A",), kwargs={"hold": True})
        first.start()
        assert holding.wait(20)
        others = [
            threading.Thread(target=unit, args=("B",), kwargs={"fail": True}),
            threading.Thread(target=unit, args=("C",)),
        ]
        for t in others:
            t.start()
        _wait(lambda: group._waiting == 2, "both units to wait for the writer")
        release.set()
        for t in (first, *others):
            t.join(30)
        assert errors == []
        assert group.commits == commits + 1  # one group: A, B (rolled back to its savepoint) and C
        db = e.server.db
        with db.write.connect() as conn:
            incidents = {r[0] for r in conn.execute(text("SELECT id FROM incidents"))}
            assert made["A"] in incidents and made["C"] in incidents
            failed = made["B"]
            assert failed not in incidents
            for tbl, col in (
                ("incident_cameras", "incident_id"),
                ("shares", "incident_id"),
                ("deliveries", "incident_id"),
                ("timeline_events", "incident_id"),
                ("audit", "target_id"),
            ):
                assert (
                    conn.execute(text(f"SELECT count(*) FROM {tbl} WHERE {col} = :i"), {"i": failed}).scalar()
                    == 0
                )
            live = [r[0] for r in conn.execute(text("SELECT data FROM live_events"))]
            assert not any(failed in str(d) for d in live)
            assert all(
                conn.execute(
                    text("SELECT count(*) FROM shares WHERE incident_id = :i"), {"i": made[n]}
                ).scalar()
                == 1
                for n in "AC"
            )
        with Session(db.write) as s:
            _, problems, _ = audit_chain.verify(s)
        assert problems == []
    finally:
        e.close()


def test_the_driver_path_stores_the_bytes_core_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite intake's inserts go straight to the driver (app/store/driver_sql.py) with the columns' own
    bind processors: the same scenario written through SQLAlchemy Core instead leaves byte-identical rows
    (text as stored: times, JSON, booleans) in every table intake writes."""
    import sqlite3

    from app.store.driver_sql import DriverInsert

    stored: list[dict[str, list[tuple[object, ...]]]] = []
    for driver in (True, False):
        monkeypatch.setattr(DriverInsert, "enabled", driver)
        data_dir = tmp_path / ("driver" if driver else "core")
        with monkeypatch.context() as m:
            intake_rows_scenario.run(data_dir, None, m)
        con = sqlite3.connect(data_dir / "goldentime.db")
        try:
            stored.append(
                {
                    t: [
                        tuple(_port(v) for v in r)
                        for r in con.execute(f"SELECT {_columns(t)} FROM {t} ORDER BY rowid")
                    ]
                    for t in intake_rows_scenario.TABLES
                }
            )
        finally:
            con.close()
    with_driver, with_core = stored
    assert with_driver["deliveries"] and with_driver["audit"]
    for t in intake_rows_scenario.TABLES:
        assert with_driver[t] == with_core[t], t


def _port(value: object) -> object:
    """The media port (any free one per engine) as ``PORT`` in stored text."""
    return re.sub(r"127\.0\.0\.1:\d+/", "127.0.0.1:PORT/", value) if isinstance(value, str) else value


def _columns(table_name: str) -> str:
    """Every column but a delivery's lease holder (each engine's random name)."""
    from app.store.models import Base

    return ", ".join(c.name for c in Base.metadata.tables[table_name].c if c.name != "claimed_by")


def test_the_driver_insert_falls_back_to_core_and_raises_sqlalchemys_errors(tmp_path: Path) -> None:
    """Rows that leave out a column with a Python-side default, or whose keys differ, go through Core (which
    fills the default); a constraint broken on the driver path raises SQLAlchemy's IntegrityError, as Core's
    would (intake's callers catch that one)."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine
    from sqlalchemy.exc import IntegrityError

    from app.store.driver_sql import DriverInsert

    md = MetaData()
    t = Table(
        "t",
        md,
        Column("id", Integer, primary_key=True),
        Column("a", String),
        Column("b", String, default="dflt"),
    )
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    md.create_all(engine)
    ins = DriverInsert(t)
    with engine.begin() as conn:
        ins(conn, [{"id": 1, "a": "x", "b": "given"}, {"id": 2, "a": "y", "b": "given"}])  # the driver
        ins(conn, {"id": 3, "a": "z"})  # b left out: Core fills its default
        ins(conn, [{"id": 4, "a": "p", "b": "q"}, {"id": 5, "b": "r", "a": "s"}])  # same keys, other order
        with pytest.raises(IntegrityError):
            ins(conn, {"id": 1, "a": "again", "b": "dup"})
        rows = conn.execute(text("SELECT id, a, b FROM t ORDER BY id")).all()
    from sqlalchemy import func, select

    from app.store.driver_sql import DriverQuery

    with engine.connect() as conn:
        # Integers and text: read on the driver; a column that needs conversion (a date): Core's answer.
        assert DriverQuery(select(func.max(t.c.id), t.c.a).where(t.c.id == 2)).first(conn) == (2, "y")
        assert DriverQuery(select(func.coalesce(func.max(t.c.id), 0)).where(t.c.id > 9)).first(conn) == (0,)
        assert DriverQuery(select(t.c.a).where(t.c.id > 9)).first(conn) is None
        dated = DriverQuery(select(func.current_date()))
        today = dated.first(conn)
        assert today is not None and not isinstance(today[0], str)  # Core converted it
        assert dated._prepared == {id(conn.dialect): None}
    assert [tuple(r) for r in rows] == [
        (1, "x", "given"),
        (2, "y", "given"),
        (3, "z", "dflt"),
        (4, "p", "q"),
        (5, "s", "r"),
    ]
    engine.dispose()

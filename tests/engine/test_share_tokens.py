"""Share tokens are stored only as hashes, and no stored webhook payload holds one in clear (issue 12).

The database is read directly (as a backup, a replica or an SQL injection would see it): no share token
appears in any table, while the creator's answer and the agency's webhook (signature checked by the
simulator) carry URLs that work. The migration ``privilege_agency_0003`` hashes older tokens in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select, text

from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, DeliveryFormat, Role
from app.engine.outbox.tokens import with_tokens
from app.formats.api import OutboundEvent
from app.sim.agency import AgencySimulator
from app.store.database import _MIGRATIONS, Database
from app.store.models import AgencyRow, DeliveryRow, ShareRow
from tests.engine.conftest import AgencyKeys, EngineUnderTest, grid_cameras, start_engine
from tests.engine.conftest import request_body as req


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(tmp_path: Path, clock: ManualClock, db_url: str | None) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path, clock=clock, db_url=db_url)
    e.add_cameras(grid_cameras())
    yield e
    e.close()


def _sim_for(
    eng: EngineUnderTest, clock: ManualClock, name: str, kind: AgencyKind, fmt: DeliveryFormat
) -> tuple[AgencySimulator, AgencyKeys]:
    agency = eng.add_agency(name, kind, "http://127.0.0.1:9/placeholder", fmt)
    sim = AgencySimulator(secrets=agency.webhook_secret, kind=kind, fmt=fmt, clock=clock.now).start()
    with eng.server.uow.writing() as s:
        row = s.get(AgencyRow, agency.id)
        assert row is not None
        row.endpoint = sim.webhook_url
    return sim, agency


def dump_database(url: str) -> str:
    """Every value of every table, as text (what anyone holding a copy of the database reads)."""
    db = Database(url)
    try:
        names = inspect(db.write).get_table_names()
        out = []
        with db.write.connect() as c:
            for name in names:
                for row in c.execute(text(f'SELECT * FROM "{name}"')).all():
                    out.append(repr(tuple(row)))
        return "\n".join(out)
    finally:
        db.dispose()


def _token(url: str, marker: str) -> str:
    return url.split(marker, 1)[1].split("/")[0].split("?")[0]


@pytest.mark.parametrize("fmt", list(DeliveryFormat))
def test_the_database_holds_no_share_token_and_the_webhook_carries_working_ones(
    eng: EngineUnderTest, clock: ManualClock, fmt: DeliveryFormat
) -> None:
    police_sim, police = _sim_for(eng, clock, "Jinju 112", AgencyKind.POLICE, fmt)
    fire_sim, fire = _sim_for(eng, clock, "Jinju 119", AgencyKind.FIRE, fmt)
    with contextlib.ExitStack() as stack:
        stack.callback(police_sim.stop)
        stack.callback(fire_sim.stop)
        answer = eng.http.post("/api/v1/requests", headers=police.headers, json=req("T-1")).json()
        share = answer["shares"][0]
        token = _token(share["viewer_url"], "/view/")
        assert all(_token(u, "/media/") == token for u in share["urls"].values())
        op = eng.add_user("op", Role.OPERATOR)
        report = eng.http.post(
            f"/api/v1/incidents/{answer['incident']['id']}/reports",
            headers=op,
            json={"agency_id": fire.id, "kind": "fire", "note": "smoke", "camera_id": "CAM-0002"},
        ).json()
        report_token = _token(report["snapshot_url"], "/media/")
        # The agencies' webhooks carry the tokens (the simulator checked each signature over the body).
        got = police_sim.wait_for(1)
        assert got[0].type == "share.created"
        assert token in got[0].body.decode() and "~gtshare:" not in got[0].body.decode()
        got_fire = fire_sim.wait_for(1)
        assert any(report_token in e.body.decode() for e in got_fire)
        # The outcomes come back from the delivery sender process: recorded a moment after the agency has them.
        deadline = time.monotonic() + 10
        while True:
            with eng.server.uow.read() as s:
                sent = s.scalars(select(DeliveryRow).where(DeliveryRow.state == "delivered")).all()
            if sent or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert sent, "the deliveries were recorded"
    # Nowhere in the database: not in the shares, not in the outbox payloads, not in the audit.
    dump = dump_database(eng.server.settings.database_url)
    for t in (token, report_token):
        assert t not in dump
        assert hashlib.sha256(t.encode()).hexdigest() in dump  # what is kept: the hash
    assert "~gtshare:" in dump  # the outbox holds placeholders where the tokens go
    # The URLs work: looked up by the token's hash. The hash itself is no token.
    assert eng.http.get(f"/view/{token}/share.json").status_code == 200
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert eng.http.get(f"/view/{digest}/share.json").status_code == 404
    # The share's own agency still reads its URLs (the engine derives the token from the key).
    detail = eng.http.get(f"/api/v1/incidents/{answer['incident']['id']}", headers=police.headers).json()
    assert detail["shares"][0]["viewer_url"] == share["viewer_url"]


def test_a_payload_whose_token_cannot_be_derived_goes_out_without_that_url() -> None:
    from tests.outbound_samples import all_events

    event = next(e for _, e in all_events() if e.share is not None and e.share.urls)
    assert event.share is not None
    stored = event.model_copy(
        update={
            "share": event.share.model_copy(
                update={
                    "urls": {c: f"http://m/media/~gtshare:shr-1:~/{c}.ts" for c in event.share.urls},
                    "viewer_url": "http://e/view/~gtshare:shr-1:~",
                }
            )
        }
    )
    out = with_tokens(OutboundEvent.model_validate(stored.model_dump(mode="json")), b"k" * 32)
    assert out.share is not None and out.share.urls == {} and out.share.viewer_url is None
    assert stored.share is not None
    filled = stored.model_copy(
        update={"share": stored.share.model_copy(update={"viewer_url": "http://e/view/~gtshare:shr-1:abc~"})}
    )
    out = with_tokens(filled, b"k" * 32)
    assert out.share is not None and out.share.viewer_url is not None
    assert "~" not in out.share.viewer_url and len(out.share.viewer_url.rsplit("/", 1)[1]) == 43


def _alembic(conn: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def test_the_migration_hashes_older_tokens_in_place(tmp_path: Path, db_url: str | None) -> None:
    clock = ManualClock()
    e = start_engine(tmp_path, clock=clock, db_url=db_url)
    try:
        e.add_cameras(grid_cameras())
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)  # its endpoint never answers: rows wait
        answer = e.http.post("/api/v1/requests", headers=police.headers, json=req("M-1")).json()
        share_id = answer["shares"][0]["id"]
        iid = answer["incident"]["id"]
    finally:
        e.close()
    url = e.server.settings.database_url
    legacy = "LegacyClearToken_" + "x" * 26  # what an older version stored in shares.token
    db = Database(url)
    try:
        with db.write.begin() as conn:
            command.downgrade(_alembic(conn), "privilege_agency_0003-1")
        with db.write.begin() as conn:
            cols = {c["name"] for c in inspect(conn).get_columns("shares")}
            assert "token" in cols and "token_salt" not in cols
            conn.execute(text("UPDATE shares SET token = :t WHERE id = :i"), {"t": legacy, "i": share_id})
            payload = f'{{"share": {{"viewer_url": "http://e/view/{legacy}"}}}}'
            conn.execute(text("UPDATE deliveries SET payload = :p"), {"p": payload})
        db.migrate()
        with db.write.connect() as conn:
            [(stored, salt)] = conn.execute(
                text("SELECT token_hash, token_salt FROM shares WHERE id = :i"), {"i": share_id}
            ).all()
            payloads = [str(p) for (p,) in conn.execute(text("SELECT payload FROM deliveries")).all()]
        assert stored == hashlib.sha256(legacy.encode()).hexdigest() and salt is None
        assert payloads and all(legacy not in p and f"~gtshare:{share_id}:~" in p for p in payloads)
    finally:
        db.dispose()
    again = start_engine(tmp_path, clock=clock, db_url=db_url)
    try:
        # The older token still opens its share (looked up by its hash) ...
        assert again.http.get(f"/view/{legacy}/share.json").status_code == 200
        # ... but it can never be given out again: answers carry no URL for that share.
        detail = again.http.get(f"/api/v1/incidents/{iid}", headers=police.headers).json()
        mine = next(s for s in detail["shares"] if s["id"] == share_id)
        assert mine["status"] == "active" and mine["urls"] == {} and mine["viewer_url"] is None
        with again.server.uow.read() as s:
            row = s.get(ShareRow, share_id)
            assert row is not None and again.server.ctx.share_token(row) is None
    finally:
        again.close()

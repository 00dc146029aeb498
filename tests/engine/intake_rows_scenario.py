"""A deterministic intake scenario and the rows it leaves, for tests/engine/test_intake_core_rows.py.

Ids come from a counter, the clock stands still and share salts are derived from the share id, so two runs
of the same code write the same rows. ``intake_rows_orm.json`` beside the tests holds what the ORM path
(main before issue 17's Core path) wrote for this scenario: ``python -m tests.engine.intake_rows_scenario OUT``
run on that code made it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, FacilityKind
from app.domain.layers import Facility
from app.engine.auth import Principal
from app.engine.errors import ServiceError
from app.engine.server import EngineServer
from app.engine.services.alerts import handle_cap
from app.engine.services.directory import create_agency, upsert_cameras, upsert_facilities
from app.engine.services.intake import handle_request
from app.engine.settings import Settings
from app.formats.api import AgencyIn, RequestIn
from tests.engine.conftest import ADMIN, JINJU, grid_cameras

# Tables intake writes and the columns compared (the dispatcher owns a delivery's state after its birth;
# its lease holder is this engine's random name, so only whether it was leased is compared).
TABLES = (
    "incidents",
    "incident_cameras",
    "incident_facilities",
    "track_points",
    "shares",
    "deliveries",
    "timeline_events",
    "audit",
    "live_events",
)
_DISPATCHER_OWNED = {"state", "attempts", "next_attempt_at", "delivered_at", "last_error", "last_status"}
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def _pin_ids(monkeypatch: Any) -> None:
    counter = itertools.count(1)

    def new_id(prefix: str) -> str:
        return f"{prefix}-{next(counter):026d}"

    for name, mod in list(sys.modules.items()):
        if name.startswith("app.") and getattr(mod, "new_id", None) is not None and name != "app.domain.ids":
            monkeypatch.setattr(mod, "new_id", new_id)


class _Patch:
    """A tiny monkeypatch for running outside pytest."""

    def __init__(self) -> None:
        self.undo: list[tuple[Any, str, Any]] = []

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        self.undo.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def restore(self) -> None:
        for obj, name, value in reversed(self.undo):
            setattr(obj, name, value)


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _media_port(text: str, port: int) -> str:
    """The media port is any free one: written as ``MEDIA_PORT`` in what is compared."""
    return text.replace(f":{port}/", ":MEDIA_PORT/")


def run(data_dir: Path, db_url: str | None, monkeypatch: Any) -> dict[str, list[dict[str, Any]]]:
    """Run the scenario on a fresh engine (not serving: the dispatcher does not run) and return every
    row of the tables intake writes."""
    _pin_ids(monkeypatch)
    settings = Settings(data_dir=data_dir, port=0, db_url=db_url)
    server = EngineServer(settings, clock=ManualClock(NOW))
    ctx = server.ctx

    def mint(share_id: str) -> tuple[str, str]:
        salt = hashlib.sha256(share_id.encode()).hexdigest()[:32]
        return salt, hashlib.sha256(("token" + salt).encode()).hexdigest()

    monkeypatch.setattr(ctx, "mint_share_token", mint)
    try:
        with server.uow(ADMIN) as work:
            upsert_cameras(work, grid_cameras())
            upsert_facilities(
                work,
                [Facility("F-1", "Gas station", JINJU[0] + 0.001, JINJU[1], FacilityKind.HAZARDOUS, "LPG")],
            )
            agencies = {
                kind: create_agency(
                    work.session,
                    AgencyIn(name=f"Jinju {kind.value}", kind=kind, endpoint="http://127.0.0.1:9/hook"),
                    settings.outbox,
                    work.now,
                ).id
                for kind in (AgencyKind.POLICE, AgencyKind.FIRE, AgencyKind.VULNERABLE, AgencyKind.DISASTER)
            }
        ctx.cameras.refresh(force=True)
        # The fire agency's automatic shares hold at most 2 cameras: its request is over the cap.
        limits = settings.agency_access.limits.model_copy(update={"cameras_per_request": 2})
        settings.agency_access.per_agency[agencies[AgencyKind.FIRE]] = limits  # this run's own settings

        def who(kind: AgencyKind) -> Principal:
            return Principal(
                kind="agency", id=agencies[kind], name=f"Jinju {kind.value}", agency_kind=kind.value
            )

        center = {"lat": JINJU[0], "lon": JINJU[1]}
        sent: list[tuple[AgencyKind, dict[str, Any]]] = [
            (
                AgencyKind.POLICE,
                {
                    "service": "112-emergency-video",
                    "external_id": "P-1",
                    "title": "fight",
                    "location": {**center, "address": "진주시청"},
                    "details": {"caller": "김", "n": [1, 2.5, None], "deep": {"a": True}},
                },
            ),
            (
                AgencyKind.POLICE,
                {
                    "service": "112-dispatch",
                    "external_id": "P-2",
                    "title": "drill",
                    "location": center,
                    "exercise": True,
                    "priority": 2,
                },
            ),
            (
                AgencyKind.POLICE,
                {
                    "service": "112-emergency-video",
                    "external_id": "P-1",
                    "title": "again",
                    "location": center,
                },
            ),  # a repeat: the same incident
            (
                AgencyKind.POLICE,
                {"service": "112-dispatch", "external_id": "P-1", "title": "clash", "location": center},
            ),  # a conflict: 409
            (
                AgencyKind.FIRE,
                {
                    "service": "119-dispatch",
                    "external_id": "F-1",
                    "title": "fire",
                    "location": center,
                    "priority": 1,
                },
            ),  # a facility, over the cap
            (
                AgencyKind.VULNERABLE,
                {
                    "service": "vulnerable-sos",
                    "external_id": "S-1",
                    "title": "sos",
                    "location": center,
                    "area": {"circle": {**center, "radius_m": 300}},
                },
            ),
        ]
        outcomes = []
        for kind, body in sent:
            try:
                result, created = handle_request(ctx, who(kind), "127.0.0.1", RequestIn.model_validate(body))
                outcomes.append({"created": created, "answer": json.loads(result.model_dump_json())})
            except ServiceError as exc:
                outcomes.append({"status": exc.status, "detail": exc.detail})
        # A CAP alert through the same open_incident: the disaster agency's own share, its alert delivery.
        cap = (Path(__file__).parents[1] / "data" / "cap_flood.xml").read_bytes()
        for _ in range(2):  # and its repeat
            result, created = handle_cap(ctx, who(AgencyKind.DISASTER), "127.0.0.1", cap)
            outcomes.append({"created": created, "answer": json.loads(result.model_dump_json())})
        out: dict[str, list[dict[str, Any]]] = {"outcomes": outcomes}
        from app.store.models import Base

        with server.db.write.connect() as conn:
            for name in TABLES:
                t = Base.metadata.tables[name]
                assert isinstance(t, Table)
                rows = []
                for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings():
                    row = {k: _json(v) for k, v in r.items() if k not in _DISPATCHER_OWNED}
                    if "claimed_by" in row:
                        row["claimed_by"] = row["claimed_by"] is not None
                    rows.append(row)
                out[name] = rows
        port = 0 if server.media is None else server.media.supervisor.port
        return json.loads(_media_port(json.dumps(out, ensure_ascii=False), port))  # type: ignore[no-any-return]
    finally:
        if server.media is not None:  # its listening socket is made with the engine, though never served
            server.media.supervisor.sock.close()
        server.db.dispose()


if __name__ == "__main__":
    import tempfile

    p = _Patch()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            rows = run(Path(tmp), None, p)
        finally:
            p.restore()
    Path(sys.argv[1]).write_text(json.dumps(rows, indent=1, sort_keys=True, ensure_ascii=False) + "\n")

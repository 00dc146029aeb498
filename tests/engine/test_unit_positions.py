"""``POST /api/v1/incidents/{incident_id}/units``: dispatched units' positions from an agency (issue #15)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.enums import AgencyKind, Role
from app.engine.agency_views import public_incident
from app.formats.api import IncidentOut
from tests.engine.conftest import JINJU, EngineUnderTest, request_body


def _problem(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return r.json()  # type: ignore[attr-defined, no-any-return]


def test_agency_sends_unit_positions_the_console_sees_them(engine: EngineUnderTest) -> None:
    police = engine.add_agency("112 room", AgencyKind.POLICE)
    fire = engine.add_agency("119 room", AgencyKind.FIRE)
    op = engine.add_user("op")
    inc = engine.http.post("/api/v1/requests", headers=police.headers, json=request_body("U1")).json()
    inc_id = inc["incident"]["id"]
    url = f"/api/v1/incidents/{inc_id}/units"
    body = {
        "units": [
            {"id": "PATROL-12", "kind": "patrol car", "lat": JINJU[0] + 0.001, "lon": JINJU[1]},
            {"id": "PATROL-7", "lat": JINJU[0], "lon": JINJU[1] + 0.002, "at": "2026-05-01T09:00:00+00:00"},
        ]
    }
    r = engine.http.post(url, headers=police.headers, json=body)
    assert r.status_code == 200, r.text
    assert sorted(u["id"] for u in r.json()) == ["PATROL-12", "PATROL-7"]
    # A later fix of the same unit replaces the earlier one.
    moved = {"units": [{"id": "PATROL-12", "lat": JINJU[0] + 0.003, "lon": JINJU[1]}]}
    assert engine.http.post(url, headers=police.headers, json=moved).status_code == 200
    detail = engine.http.get(f"/api/v1/incidents/{inc_id}", headers=op).json()
    units = {u["id"]: u for u in detail["details"]["unit_positions"]}
    assert set(units) == {"PATROL-12", "PATROL-7"}
    assert units["PATROL-12"]["lat"] == JINJU[0] + 0.003 and units["PATROL-12"]["agency_id"] == police.id
    boss = engine.add_user("boss", role=Role.SUPERVISOR)
    audit = engine.http.get("/api/v1/audit", headers=boss, params={"action": "incident.units"}).json()
    assert len(audit) == 2 and all(a["target_id"] == inc_id for a in audit)

    # An agency with no share in the incident learns nothing about it.
    p = _problem(engine.http.post(url, headers=fire.headers, json=body), 404)
    assert "incident" in str(p["detail"])
    assert _problem(engine.http.post("/api/v1/incidents/nope/units", headers=police.headers, json=body), 404)
    # Console users do not post units; the gate says so.
    _problem(engine.http.post(url, headers=op, json=body), 403)
    # Hostile input: a clear 422, nothing stored.
    for bad in (
        {"units": []},
        {"units": [{"id": "X", "lat": 999, "lon": 0}]},
        {"units": [{"id": "", "lat": 35, "lon": 128}]},
        {"units": [{"id": "A\nB", "lat": 35, "lon": 128}]},
        {"units": [{"id": f"U{k}", "lat": 35, "lon": 128} for k in range(51)]},
        {"units": [{"id": "X", "lat": 35, "lon": 128, "extra": 1}]},
    ):
        _problem(engine.http.post(url, headers=police.headers, json=bad), 422)
    detail = engine.http.get(f"/api/v1/incidents/{inc_id}", headers=op).json()
    assert len(detail["details"]["unit_positions"]) == 2

    # Closed: the requesting agency no longer reads it, so it cannot post units to it either.
    r = engine.http.post("/api/v1/requests/U1/updates", headers=police.headers, json={"closed": True})
    assert r.status_code == 200, r.text
    _problem(engine.http.post(url, headers=police.headers, json=body), 404)


def test_an_agency_sees_only_its_own_units() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    out = IncidentOut.model_validate(
        {
            "id": "I1",
            "service": "119-dispatch",
            "status": "new",
            "title": "t",
            "priority": 1,
            "exercise": False,
            "location": {"lat": 35.18, "lon": 128.08},
            "created_at": now,
            "updated_at": now,
            "agency_id": "fire",
            "details": {
                "unit_positions": [
                    {"id": "P1", "agency_id": "police", "lat": 35.18, "lon": 128.08},
                    {"id": "F1", "agency_id": "fire", "lat": 35.18, "lon": 128.08},
                ],
                "other": 1,
            },
        }
    )
    seen = public_incident(out, "police")
    assert [u["id"] for u in seen.details["unit_positions"]] == ["P1"] and seen.details["other"] == 1
    assert [u["id"] for u in public_incident(out, "fire").details["unit_positions"]] == ["F1"]
    assert len(out.details["unit_positions"]) == 2, "the console's view is untouched"

"""``GET /api/v1/history/incidents``: closed incidents searched by time, service, place and text (issue #15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.enums import AgencyKind, Role
from tests.engine.conftest import JINJU, EngineUnderTest, request_body


def test_history_search_is_read_only_and_audited(engine: EngineUnderTest) -> None:
    police = engine.add_agency("112 room", AgencyKind.POLICE)
    fire = engine.add_agency("119 room", AgencyKind.FIRE)
    op = engine.add_user("op")
    auditor = engine.add_user("aud", role=Role.AUDITOR)

    def make(ext: str, keys: object, service: str, title: str, address: str, lat: float, close: bool) -> str:
        body = request_body(
            ext, service, title=title, location={"lat": lat, "lon": JINJU[1], "address": address}
        )
        r = engine.http.post("/api/v1/requests", headers=keys.headers, json=body)  # type: ignore[attr-defined]
        assert r.status_code == 201, r.text
        if close:
            u = engine.http.post(
                f"/api/v1/requests/{ext}/updates",
                headers=keys.headers,
                json={"closed": True},  # type: ignore[attr-defined]
            )
            assert u.status_code == 200, u.text
        return str(r.json()["incident"]["id"])

    a = make("H1", police, "112-dispatch", "Assault at the market", "진주시 중앙시장 12", JINJU[0], True)
    b = make("H2", fire, "119-dispatch", "Kitchen fire", "진주시 상봉동 3", JINJU[0] + 0.05, True)
    make("H3", police, "112-dispatch", "Assault, still open", "진주시 중앙시장 14", JINJU[0], False)

    def search(headers: dict[str, str], **params: object) -> list[str]:
        r = engine.http.get("/api/v1/history/incidents", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()]

    assert search(op) == [b, a], "closed only, newest closed first"
    assert search(op, service="119-dispatch") == [b]
    assert search(op, q="assault") == [a], "text, case-insensitive; the open one is not history"
    assert search(op, place="중앙시장") == [a]
    assert search(op, near=f"{JINJU[0]},{JINJU[1]},500") == [a]
    assert search(op, q="100%_") == []  # LIKE wildcards are text
    now = datetime.now(UTC)
    assert search(auditor, since=(now - timedelta(hours=1)).isoformat()) == [b, a]
    assert search(op, until=(now - timedelta(hours=1)).isoformat()) == []

    # Every search is audited with its query.
    boss = engine.add_user("boss", role=Role.SUPERVISOR)
    rows = engine.http.get("/api/v1/audit", headers=boss, params={"action": "incident.history"}).json()
    assert len(rows) == 8
    assert any(r["detail"].get("text") == "assault" and r["actor"] == "user:op" for r in rows)

    # Hostile or wrong input: clear problems.
    for params in (
        {"near": "1,2"},
        {"near": "35,128,0"},
        {"limit": 0},
        {"service": "nope"},
        {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()},
    ):
        r = engine.http.get("/api/v1/history/incidents", headers=op, params=params)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (
            params
        )
    # Agencies and walls do not search the history.
    assert engine.http.get("/api/v1/history/incidents", headers=police.headers).status_code == 403

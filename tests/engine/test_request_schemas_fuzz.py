"""Hypothesis over the request schemas (app/formats/api.py): whatever JSON an agency, an operator or an
admin sends to a route that takes a body, the engine answers with a 2xx or a 4xx problem, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.enums import AgencyKind, Role
from tests.engine.conftest import JINJU, EngineUnderTest, grid_cameras, request_body, start_engine

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _mutations(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid body with some fields replaced by any JSON, dropped, or joined by unknown ones; or any JSON."""
    keys = sorted(valid)

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(valid)
        for key in draw(st.lists(st.sampled_from(keys), max_size=len(keys), unique=True)):
            if draw(st.booleans()):
                body[key] = draw(JSON)
            else:
                body.pop(key, None)
        if draw(st.booleans()):
            body[draw(st.text(max_size=8))] = draw(JSON)
        return body

    return mutate() | JSON


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EngineUnderTest, dict[str, Any]]]:
    e = start_engine(tmp_path_factory.mktemp("fuzz"))
    e.add_cameras(grid_cameras())
    police = e.add_agency("112", AgencyKind.POLICE)
    target = e.add_agency("target", AgencyKind.FIRE)
    op = e.add_user("op", Role.OPERATOR)
    admin = e.add_user("root", Role.ADMIN)
    doc = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("FZ-1")).json()
    yield (
        e,
        {
            "police": police.headers,
            "op": op,
            "admin": admin,
            "incident": doc["incident"]["id"],
            "target": target.id,
        },
    )
    e.close()


ROUTES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/requests", "police", request_body("FZ-2")),
    (
        "POST",
        "/api/v1/requests/FZ-1/updates",
        "police",
        {"location": {"lat": JINJU[0], "lon": JINJU[1]}, "note": "n", "units": ["A1"]},
    ),
    ("POST", "/api/v1/sensors/events", "police", {"sensor_id": "S-1", "value": 1.0, "alarm": True}),
    ("PATCH", "/api/v1/incidents/{incident}", "op", {"assignee": "kim", "priority": 2, "note": "n"}),
    (
        "POST",
        "/api/v1/incidents/{incident}/shares",
        "op",
        {
            "agency_id": "{target}",
            "camera_ids": ["CAM-0001"],
            "minutes": 10,
            "purpose": "p",
            "legal_basis": "pipa-18-2-3",
        },
    ),
    ("POST", "/api/v1/incidents/{incident}/reports", "op", {"agency_id": "{target}", "kind": "fire"}),
    ("POST", "/api/v1/agencies/{target}/keys", "admin", {"grace_minutes": 5}),
    ("PATCH", "/api/v1/agencies/{target}", "admin", {"name": "n", "rotate_secret": False}),
]


@pytest.mark.parametrize(
    ("method", "path", "who", "valid"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_no_body_makes_a_5xx(
    world: tuple[EngineUnderTest, dict[str, Any]], method: str, path: str, who: str, valid: dict[str, Any]
) -> None:
    e, ids = world
    url = path.format(**ids)
    filled = {k: (v.format(**ids) if isinstance(v, str) and "{" in v else v) for k, v in valid.items()}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=_mutations(filled))
    def check(body: Any) -> None:
        r = e.http.request(method, url, headers=ids[who], json=body)
        assert r.status_code < 500, (body, r.status_code, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text

    check()

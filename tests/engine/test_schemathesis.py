"""Schemathesis over ``/openapi.json`` for every caller: generated requests (valid and invalid bodies,
paths and queries) never get a 5xx, and every documented answer matches its schema.

Bounded: a few examples per operation and caller (``EXAMPLES``), derandomized: about half a minute in all on this machine.
The live video routes are left out (a generated token never plays; they are covered by the media tests).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.domain.enums import AgencyKind, Role
from app.engine.auth import issue_session
from app.engine.services.directory import add_user
from app.engine.services.wall_keys import add_wall_key
from tests.engine.conftest import ADMIN, EngineUnderTest, grid_cameras, request_body, start_engine

EXAMPLES = 12
SKIPPED = ("/media/{token}/{camera_id}.ts",)
CALLERS = ("none", "operator", "supervisor", "admin", "auditor", "wall", "agency")


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EngineUnderTest, dict[str, dict[str, str]]]]:
    e = start_engine(
        tmp_path_factory.mktemp("fuzz"),
        # Generated logins must not lock anyone out for the rest of the run.
        security={"throttle_free_failures": 100, "throttle_base_s": 0.01, "throttle_max_s": 0.01},
    )
    e.add_cameras(grid_cameras(4))
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    assert (
        e.http.post("/api/v1/requests", headers=police.headers, json=request_body("F-1")).status_code == 201
    )
    headers: dict[str, dict[str, str]] = {"none": {}, "agency": police.headers}
    with e.server.uow(ADMIN) as work:
        for role in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
            user = add_user(work.session, f"fz-{role.value}", role, "password-123", work.now)
            work.session.flush()
            headers[role.value] = {
                "authorization": f"Bearer {issue_session(work.session, user, work.now, 2.0)}"
            }
        headers["wall"] = {"authorization": f"Bearer {add_wall_key(work.session, 'WALL-1', work.now)}"}
    yield e, headers
    e.close()


@pytest.mark.parametrize("caller", CALLERS)
def test_no_server_error_and_no_schema_violation(
    fuzzed: tuple[EngineUnderTest, dict[str, dict[str, str]]], caller: str
) -> None:
    e, headers = fuzzed
    schema = schemathesis.openapi.from_url(f"{e.url}/openapi.json")
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIPPED:
            continue
        if (op.method.upper(), op.path) == ("DELETE", "/api/v1/sessions"):
            continue  # would end the caller's own session for every later operation
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=st.one_of(
                op.as_strategy(generation_mode=GenerationMode.POSITIVE),
                op.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            )
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=e.url, headers=headers[caller], timeout=15)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
    assert operations >= 30


def test_what_schemathesis_found_stays_fixed(
    fuzzed: tuple[EngineUnderTest, dict[str, dict[str, str]]],
) -> None:
    """An offset beyond SQLite's 64-bit integers was a 500; a live-feed ``since`` likewise."""
    e, headers = fuzzed
    r = e.http.get("/api/v1/cameras", headers=headers["operator"], params={"offset": 10**20})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    url = e.url.replace("http://", "ws://") + f"/api/v1/live?since={10**20}"
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(url, additional_headers=headers["operator"]) as ws:
            ws.recv(timeout=5)

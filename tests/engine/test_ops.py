"""Liveness, readiness and Prometheus metrics on a real engine."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.domain.enums import AgencyKind
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine


def _sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, matched by name and (a subset of) its labels."""
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-z_]+)(\{.*\})? (\S+)$", line)
        assert m, line
        if m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    raise AssertionError(f"no sample {name}{labels} in:\n{body}")


def test_health_and_readiness(engine: EngineUnderTest) -> None:
    assert engine.http.get("/healthz").json() == {"status": "ok"}
    r = engine.http.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_not_ready_when_the_schema_is_not_this_versions(engine: EngineUnderTest) -> None:
    with engine.server.db.write.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('from_the_future')"))
    r = engine.http.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "not ready", "failing": ["schema"]}


def test_metrics_count_requests_by_route_template_and_time_intake(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)  # endpoint refuses: deliveries queue
    for i in range(3):
        r = engine.http.post("/api/v1/requests", headers=police.headers, json=request_body(f"M-{i}"))
        assert r.status_code == 201
    iid = r.json()["incident"]["id"]
    engine.http.get(f"/api/v1/incidents/{iid}", headers=police.headers)
    engine.http.get("/api/v1/incidents/not-a-real-id", headers=police.headers)
    body = engine.http.get("/metrics").text
    assert _sample(body, "goldentime_http_requests_total", route="/api/v1/requests", status="201") == 3
    assert "not-a-real-id" not in body and iid not in body  # templates, never raw paths
    assert _sample(body, "goldentime_intake_latency_seconds_count", route="/api/v1/requests") == 3
    assert _sample(body, "goldentime_intake_latency_seconds_bucket", route="/api/v1/requests", le="+Inf") == 3
    assert _sample(body, "goldentime_delivery_queue_depth", agency="Jinju 112") >= 1
    assert _sample(body, "goldentime_cameras", state="offline") + _sample(
        body, "goldentime_cameras", state="online"
    ) == len(grid_cameras())


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    e = start_engine(tmp_path, ops={"metrics_token": "m" * 32})
    try:
        assert e.http.get("/metrics").status_code == 401
        assert e.http.get("/metrics", headers={"authorization": "Bearer " + "x" * 32}).status_code == 401
        ok = e.http.get("/metrics", headers={"authorization": "Bearer " + "m" * 32})
        assert ok.status_code == 200 and "goldentime_http_requests_total" in ok.text
    finally:
        e.close()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_say_nothing_about_the_inside(engine: EngineUnderTest, path: str) -> None:
    body = httpx.get(engine.url + path).text
    assert "sqlite" not in body.lower() and str(engine.server.settings.data_dir) not in body


def test_each_metric_is_declared_once_with_its_samples_together(engine: EngineUnderTest) -> None:
    engine.add_agency("Jinju 112", AgencyKind.POLICE)
    engine.add_agency("Jinju 119", AgencyKind.FIRE)
    seen: list[str] = []
    for line in engine.http.get("/metrics").text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in seen, f"{name} declared twice"
            seen.append(name)
        elif line and not line.startswith("#"):
            sample = re.split(r"[{ ]", line, maxsplit=1)[0]
            family = re.sub(r"_(bucket|sum|count)$", "", sample)
            assert family == seen[-1] or sample == seen[-1], f"{sample} outside its family"

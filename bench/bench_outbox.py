"""Outbox delivery: deliveries per second on SQLite to a local receiver, and request-to-webhook latency.

    .venv/bin/python bench/bench_outbox.py [--deliveries 2000] [--latency-requests 100]

Reference in the same script: a plain httpx POST loop (same body size, same concurrency, keep-alive) to the
same receiver (the agency simulator, its own process, verifying every signature). Targets: at least 200
deliveries/s on SQLite; request-to-webhook p95 under 100 ms with the agency up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.clock import SystemClock  # noqa: E402
from app.domain.enums import AgencyKind  # noqa: E402
from app.domain.ids import new_id  # noqa: E402
from app.engine.services.directory import create_agency, upsert_cameras  # noqa: E402
from app.engine.settings import Settings  # noqa: E402
from app.engine.work import UnitOfWorkFactory  # noqa: E402
from app.formats.api import AgencyIn  # noqa: E402
from app.formats.webhooks import sign_headers  # noqa: E402
from app.store.database import Database  # noqa: E402
from app.store.models import AgencyRow, DeliveryRow, IncidentRow  # noqa: E402
from bench.bench_intake import agency_simulator, free_port  # noqa: E402
from tests.engine.conftest import ADMIN, JINJU, grid_cameras  # noqa: E402


def wait_http(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def received_count(agency_url: str) -> int:
    return int(httpx.get(f"{agency_url}/control/state", timeout=30).json()["received"])


async def reference_rate(webhook_url: str, secret: str, body: bytes, n: int, concurrency: int) -> float:
    counter = iter(range(n))

    async def worker(http: httpx.AsyncClient) -> None:
        for _ in counter:
            msg_id = new_id("ref")
            content = body.replace(b"__ID__", msg_id.encode())
            headers = sign_headers(msg_id, datetime.now(UTC), content, [secret])
            headers["content-type"] = "application/json"
            r = await http.post(webhook_url, content=content, headers=headers)
            r.raise_for_status()

    async with httpx.AsyncClient(timeout=30) as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=2000)
    ap.add_argument("--latency-requests", type=int, default=100)
    args = ap.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "engine"
        data.mkdir()
        db = Database(f"sqlite+pysqlite:///{data / 'goldentime.db'}")
        db.migrate()
        uow = UnitOfWorkFactory(db, SystemClock())
        agency_port, engine_port = free_port(), free_port()
        agency_url = f"http://127.0.0.1:{agency_port}"
        with uow(ADMIN) as work:
            upsert_cameras(work, grid_cameras())
            created = create_agency(
                work.session,
                AgencyIn(name="bench 112", kind=AgencyKind.POLICE, endpoint=f"{agency_url}/webhook"),
                settings.outbox,
                work.now,
            )
        agency = agency_simulator(agency_port, created.webhook_secret)
        engine = None
        try:
            wait_http(f"{agency_url}/received")
            # A realistic payload: deliver one real request's share.created, then copy its body for the backlog.
            engine = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "main.py"),
                    "engine",
                    "--data-dir",
                    str(data),
                    "--port",
                    str(engine_port),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{engine_port}"
            wait_http(f"{base}/api/v1/health")
            headers = {"authorization": f"Bearer {created.api_key}"}
            http = httpx.Client(base_url=base, timeout=30)

            # 1. Request-to-webhook latency, one request at a time with the agency up.
            latencies = []
            for i in range(args.latency_requests):
                before = received_count(agency_url)
                t0 = datetime.now(UTC)
                r = http.post(
                    "/api/v1/requests",
                    headers=headers,
                    json={
                        "service": "112-emergency-video",
                        "external_id": f"L-{i}",
                        "title": "lat",
                        "location": {"lat": JINJU[0], "lon": JINJU[1]},
                    },
                )
                r.raise_for_status()
                while True:
                    got = httpx.get(f"{agency_url}/received", timeout=30).json()
                    if len(got) > before:
                        break
                    time.sleep(0.002)
                latencies.append((datetime.fromisoformat(got[-1]["received_at"]) - t0).total_seconds())
            latencies.sort()

            # 2. Throughput: a backlog of N deliveries written while the agency is disabled, then enabled.
            with uow.writing() as s:
                template = s.query(DeliveryRow).first()
                assert template is not None
                s.get(AgencyRow, created.id).enabled = False  # type: ignore[union-attr]
                now = datetime.now(UTC)
                incidents = [
                    IncidentRow(
                        **{
                            c.name: getattr(s.get(IncidentRow, template.incident_id), c.name)
                            for c in IncidentRow.__table__.columns
                        }
                        | {"id": f"INC-B{k}", "external_id": f"B-{k}"}
                    )
                    for k in range(args.deliveries // 4)
                ]
                s.add_all(incidents)
                s.flush()
                for k in range(args.deliveries):
                    payload = dict(template.payload) | {
                        "id": f"msg-B{k}",
                        "sequence": k // len(incidents) + 1,
                    }
                    payload["incident"] = dict(payload["incident"]) | {"id": incidents[k % len(incidents)].id}
                    s.add(
                        DeliveryRow(
                            id=f"msg-B{k}",
                            agency_id=created.id,
                            incident_id=incidents[k % len(incidents)].id,
                            event_type="share.created",
                            sequence=k // len(incidents) + 1,
                            payload=payload,
                            state="pending",
                            attempts=0,
                            created_at=now,
                            next_attempt_at=now,
                        )
                    )
            body = json.dumps(
                {
                    "type": "share.created",
                    "id": "__ID__",
                    "occurred_at": now.isoformat(),
                    "sequence": 1,
                    "data": template.payload,
                }
            ).encode()
            already = received_count(agency_url)
            # Re-enable through the API so the engine wakes its dispatcher at once.
            admin_token = None
            with uow(ADMIN) as work:
                from app.domain.enums import Role
                from app.engine.services.directory import add_user

                add_user(work.session, "bench-admin", Role.ADMIN, "bench-password", work.now)
            admin_token = http.post(
                "/api/v1/sessions", json={"username": "bench-admin", "password": "bench-password"}
            ).json()["token"]
            t0 = time.perf_counter()
            http.patch(
                f"/api/v1/agencies/{created.id}",
                headers={"authorization": f"Bearer {admin_token}"},
                json={"enabled": True},
            ).raise_for_status()
            deadline = time.monotonic() + 600
            while received_count(agency_url) < already + args.deliveries and time.monotonic() < deadline:
                time.sleep(0.5)  # polling the receiver costs it CPU: look rarely
            rate = (received_count(agency_url) - already) / (time.perf_counter() - t0)
            ref = asyncio.run(
                reference_rate(
                    f"{agency_url}/webhook", created.webhook_secret, body, min(args.deliveries, 2000), 32
                )
            )
        finally:
            if engine is not None:
                engine.terminate()
                engine.wait(15)
            agency.terminate()
            agency.wait(15)
            db.dispose()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(0.95 * len(latencies)) - 1] * 1000
    print(
        f"request-to-webhook latency (agency up, {len(latencies)} requests): p50 {p50:.1f} ms   p95 {p95:.1f} ms   (target p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'})"
    )
    print(
        f"outbox delivery rate (SQLite, backlog of {args.deliveries}): {rate:7.0f} deliveries/s   (target >= 200: {'met' if rate >= 200 else 'NOT met'})"
    )
    print(f"reference: plain httpx POST loop, 32 concurrent:      {ref:7.0f} posts/s")
    print(f"ratio outbox / plain POST loop: {rate / ref:.2f}")


if __name__ == "__main__":
    main()

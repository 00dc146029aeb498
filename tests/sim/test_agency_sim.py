"""The agency simulator on a real socket: signatures, formats, failure modes, waiting, video access."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.domain.enums import AgencyKind, DeliveryFormat
from app.formats.api import OutboundEvent
from app.formats.payloads import AgencyContext, adapter_for
from app.formats.webhooks import new_secret, sign_headers
from app.sim.agency import AgencySimulator, main_sim_agency
from tests.outbound_samples import make_event

AGENCY = AgencyContext("AG-FIRE", "119 room", AgencyKind.FIRE, "goldentime@city.example", "Control centre")


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def sim(secret: str) -> Iterator[AgencySimulator]:
    with AgencySimulator(secrets=[secret], kind=AgencyKind.FIRE) as running:
        yield running


def deliver(
    sim: AgencySimulator,
    event: OutboundEvent,
    secrets: list[str],
    *,
    fmt: DeliveryFormat = DeliveryFormat.JSON,
    at: datetime | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    payload = adapter_for(fmt).render(event, AGENCY)
    headers = sign_headers(event.id, at or datetime.now(UTC), payload.body, secrets)
    headers["content-type"] = payload.content_type
    return httpx.post(sim.webhook_url, content=payload.body, headers=headers, timeout=timeout)


def test_good_signature_is_accepted_and_recorded(sim: AgencySimulator, secret: str) -> None:
    event = make_event("share.created", sequence=1)
    response = deliver(sim, event, [secret])
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "id": event.id}
    (got,) = sim.wait_for(1, timeout=5)
    assert (got.id, got.type, got.sequence, got.incident_id) == (
        event.id,
        "share.created",
        1,
        event.incident.id,
    )
    assert got.headers["webhook-id"] == event.id
    assert got.urls == tuple(event.share.urls.values()) if event.share else ()
    listed = httpx.get(f"{sim.url}/received").json()
    assert [r["id"] for r in listed] == [event.id]
    assert listed[0]["body"].startswith('{"type":"share.created"')


def test_bad_signature_is_401_problem_json(sim: AgencySimulator) -> None:
    response = deliver(sim, make_event(), [new_secret()])
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 401 and "no signature matches" in problem["detail"]
    assert sim.received() == []
    assert [a.outcome for a in sim.attempts()] == ["unauthorized"]


def test_stale_timestamp_is_401(sim: AgencySimulator, secret: str) -> None:
    response = deliver(sim, make_event(), [secret], at=datetime.now(UTC) - timedelta(minutes=10))
    assert response.status_code == 401
    assert "old" in response.json()["detail"]


def test_rotation_accepts_either_signature(sim: AgencySimulator, secret: str) -> None:
    assert deliver(sim, make_event(event_id="EVT-A"), [new_secret(), secret]).status_code == 200
    assert deliver(sim, make_event(event_id="EVT-B"), [secret, new_secret()]).status_code == 200
    assert [e.id for e in sim.wait_for(2, timeout=5)] == ["EVT-A", "EVT-B"]


def test_bad_body_is_400(sim: AgencySimulator, secret: str) -> None:
    body = b'{"type": "share.created"}'
    headers = sign_headers("EVT-X", datetime.now(UTC), body, [secret])
    response = httpx.post(sim.webhook_url, content=body, headers=headers)
    assert response.status_code == 400
    assert "envelope field 'id'" in response.json()["detail"]


def test_id_mismatch_is_400(sim: AgencySimulator, secret: str) -> None:
    payload = adapter_for("json").render(make_event(event_id="EVT-1"), AGENCY)
    headers = sign_headers("EVT-2", datetime.now(UTC), payload.body, [secret])
    response = httpx.post(sim.webhook_url, content=payload.body, headers=headers)
    assert response.status_code == 400
    assert "differs from webhook-id" in response.json()["detail"]


def test_duplicates_are_deduplicated_but_counted(sim: AgencySimulator, secret: str) -> None:
    event = make_event()
    assert deliver(sim, event, [secret]).json()["status"] == "accepted"
    assert deliver(sim, event, [secret]).json()["status"] == "duplicate"
    assert deliver(sim, event, [secret]).status_code == 200
    assert len(sim.received()) == 1
    assert sim.duplicates() == {event.id: 2}
    assert httpx.get(f"{sim.url}/received").json()[0]["duplicates"] == 2


@pytest.mark.parametrize("fmt", [DeliveryFormat.CAP, DeliveryFormat.EIDO])
def test_standard_formats(secret: str, fmt: DeliveryFormat) -> None:
    with AgencySimulator(secrets=secret, kind=AgencyKind.FIRE, fmt=fmt) as sim:
        first = make_event("share.created", sequence=1, exercise=True)
        second = make_event("share.revoked", sequence=2, exercise=True)
        assert deliver(sim, first, [secret], fmt=fmt).status_code == 200
        assert deliver(sim, second, [secret], fmt=fmt).status_code == 200
        got = sim.wait_for(2, timeout=5)
        assert [(e.id, e.type, e.sequence, e.exercise) for e in got] == [
            (first.id, "share.created", 1, True),
            (second.id, "share.revoked", 2, True),
        ]
        assert first.share is not None and first.share.viewer_url
        assert set(got[0].urls) == {*first.share.urls.values(), first.share.viewer_url}
        assert got[1].urls == ()
        # a JSON envelope is not what this agency reads
        assert deliver(sim, make_event(event_id="EVT-J"), [secret]).status_code == 400


def test_http_failures_then_recovery(sim: AgencySimulator, secret: str) -> None:
    sim.set_failure("http500", count=2)
    event = make_event()
    assert deliver(sim, event, [secret]).status_code == 500
    assert deliver(sim, event, [secret]).status_code == 500
    assert deliver(sim, event, [secret]).status_code == 200
    assert [a.status for a in sim.attempts()] == [500, 500, 200]
    assert len(sim.wait_for(1, timeout=5)) == 1


@pytest.mark.parametrize(("mode", "status"), [("http429", 429), ("http503", 503), ("http410", 410)])
def test_status_modes(sim: AgencySimulator, secret: str, mode: str, status: int) -> None:
    response = httpx.post(f"{sim.url}/control/fail", json={"mode": mode, "count": 1, "retry_after_s": 7})
    assert response.status_code == 200 and response.json()["mode"] == mode
    failed = deliver(sim, make_event(), [secret])
    assert failed.status_code == status
    assert failed.headers["content-type"].startswith("application/problem+json")
    if status != 410:
        assert failed.headers["retry-after"] == "7"
    assert deliver(sim, make_event(), [secret]).status_code == 200


def test_persistent_failure_until_ok(sim: AgencySimulator, secret: str) -> None:
    sim.set_failure("http503")
    for _ in range(3):
        assert deliver(sim, make_event(), [secret]).status_code == 503
    httpx.post(f"{sim.url}/control/fail", json={"mode": "ok"}).raise_for_status()
    assert deliver(sim, make_event(), [secret]).status_code == 200


def test_drop_closes_the_connection_without_an_answer(sim: AgencySimulator, secret: str) -> None:
    sim.set_failure("drop", count=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        deliver(sim, make_event(), [secret])
    assert sim.wait_for_attempts(1, timeout=5)[0].outcome == "drop"
    assert deliver(sim, make_event(), [secret]).status_code == 200


def test_timeout_holds_the_request(sim: AgencySimulator, secret: str) -> None:
    sim.set_failure("timeout", count=1, delay_s=60)
    with pytest.raises(httpx.ReadTimeout):
        deliver(sim, make_event(), [secret], timeout=0.3)
    assert sim.received() == []
    assert deliver(sim, make_event(), [secret]).status_code == 200
    # stop() must not wait the 60 s hold out (the fixture stops the simulator)


def test_slow_answers_late_but_accepts(sim: AgencySimulator, secret: str) -> None:
    sim.set_failure("slow", count=1, delay_s=0.3)
    response = deliver(sim, make_event(), [secret])
    assert response.status_code == 200
    assert response.elapsed >= timedelta(seconds=0.3)
    assert len(sim.received()) == 1


def test_control_rejects_bad_requests(sim: AgencySimulator) -> None:
    bad = httpx.post(f"{sim.url}/control/fail", json={"mode": "explode"})
    assert bad.status_code == 400 and "mode 'explode' is not one of" in bad.json()["detail"]
    bad = httpx.post(f"{sim.url}/control/fail", json={"mode": "http500", "count": 0})
    assert bad.status_code == 400 and "count" in bad.json()["detail"]
    bad = httpx.post(f"{sim.url}/control/fail", json={"mode": "ok", "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()["detail"]


def test_wait_for_times_out_with_a_useful_message(sim: AgencySimulator) -> None:
    with pytest.raises(TimeoutError, match=r"waited 0.05 s for 1 events, got 0"):
        sim.wait_for(1, timeout=0.05)


def test_wait_for_is_woken_by_a_delivery_from_another_thread(sim: AgencySimulator, secret: str) -> None:
    sender = threading.Thread(target=deliver, args=(sim, make_event(), [secret]))
    sender.start()
    try:
        assert len(sim.wait_for(1, timeout=5)) == 1
    finally:
        sender.join(5)


def test_wait_for_async(sim: AgencySimulator, secret: str) -> None:
    async def scenario() -> int:
        waiter = asyncio.create_task(sim.wait_for_async(1, wait_s=5))
        await asyncio.to_thread(deliver, sim, make_event(), [secret])
        return len(await waiter)

    assert asyncio.run(scenario()) == 1


class _Media(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.endswith(".ts"):
            body, ctype = b"\x47" + b"\x00" * 187 * 1 + b"\x47" * 2000, "video/mp2t"
        elif self.path.endswith(".jpg"):
            body, ctype = b"\xff\xd8\xff" + b"\x00" * 500, "image/jpeg"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def media_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/media/tok"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_open_video_on_demand(sim: AgencySimulator, secret: str, media_base: str) -> None:
    event = make_event("report.created", media_base=media_base)
    assert deliver(sim, event, [secret]).status_code == 200
    checks = {c["url"]: c for c in sim.open_video()}
    assert checks[f"{media_base}/CAM-0001.ts"]["status"] == 200
    assert checks[f"{media_base}/CAM-0001.ts"]["bytes"] > 0
    assert checks[f"{media_base}/CAM-0001.jpg"]["content_type"] == "image/jpeg"
    assert len(checks) == 3


def test_open_video_automatically(secret: str, media_base: str) -> None:
    with AgencySimulator(secrets=[secret], open_video=True) as sim:
        event = make_event("share.created", media_base=media_base)
        event.share.urls["CAM-9999"] = f"{media_base}/CAM-9999.mp4"  # type: ignore[union-attr]
        assert deliver(sim, event, [secret]).status_code == 200
        checks = {c.url: c for c in sim.wait_for_video_checks(3, timeout=10)}
        assert checks[f"{media_base}/CAM-0001.ts"].status == 200
        assert checks[f"{media_base}/CAM-9999.mp4"].status == 404


def test_cli_refuses_a_bad_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_sim_agency(["--kind", "police", "--secret", "not-a-secret", "--port", "0"]) == 2
    assert "whsec_" in capsys.readouterr().out

"""Webhook endpoints and SSRF: https only by default, private/link-local/metadata addresses refused unless
allow-listed, redirects never followed, and every connection vetted again (DNS rebinding)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from app.domain.enums import AgencyKind, Role
from app.engine.outbox import egress
from app.engine.outbox.egress import check_url
from app.store.models import DeliveryRow
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine


@pytest.mark.parametrize(
    ("url", "allow_http", "networks", "refused"),
    [
        ("https://93.184.216.34/hook", False, [], None),
        ("http://127.0.0.1:9000/hook", False, [], None),
        ("http://localhost:9000/hook", False, [], None),
        ("http://93.184.216.34/hook", False, [], "plain http"),
        ("http://93.184.216.34/hook", True, [], None),
        ("https://10.1.2.3/hook", False, [], "private"),
        ("https://192.168.0.10/hook", False, [], "private"),
        ("https://100.64.1.1/hook", False, [], "private"),
        ("https://169.254.169.254/latest/meta-data", False, [], "metadata"),
        ("https://169.254.10.1/hook", False, [], "link-local"),
        ("https://[fe80::1]/hook", False, [], "link-local"),
        ("https://[fd00:ec2::254]/hook", False, [], "metadata"),
        ("https://[::ffff:10.0.0.1]/hook", False, [], "private"),
        ("https://0.0.0.0/hook", False, [], "unspecified"),
        ("https://10.1.2.3/hook", False, ["10.1.0.0/16"], None),
        ("https://10.2.2.3/hook", False, ["10.1.0.0/16"], "private"),
    ],
)
def test_endpoint_addresses(url: str, allow_http: bool, networks: list[str], refused: str | None) -> None:
    why = check_url(url, allow_http=allow_http, allowed_networks=networks, resolve=False)
    assert (why is None) if refused is None else (why is not None and refused in why), why


def test_a_name_that_resolves_to_an_internal_address_is_refused() -> None:
    def internal(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]

    why = check_url("https://agency.example/hook", allow_http=False, allowed_networks=[], resolve=internal)
    assert why is not None and "10.0.0.7" in why and "private" in why


def test_the_admin_api_refuses_internal_endpoints(engine: EngineUnderTest) -> None:
    admin = engine.add_user("root", Role.ADMIN)
    for endpoint, word in (
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://203.0.113.9/hook", "plain http"),
        ("https://10.0.0.8/hook", "private"),
    ):
        r = engine.http.post(
            "/api/v1/agencies", headers=admin, json={"name": "x", "kind": "police", "endpoint": endpoint}
        )
        assert r.status_code == 422 and word in r.json()["detail"], r.text


class _Receiver:
    """A loopback HTTP server counting hits; ``redirect_to`` makes it answer 302 to that URL."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.hits += 1
                self.rfile.read(int(self.headers.get("content-length", "0")))
                if redirect_to:
                    self.send_response(302)
                    self.send_header("location", redirect_to)
                else:
                    self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[_Receiver]]:
    made: list[_Receiver] = []
    yield made
    for r in made:
        r.close()


def _deliveries(e: EngineUnderTest, agency_id: str) -> list[DeliveryRow]:
    with e.server.uow.read() as s:
        return list(s.query(DeliveryRow).filter(DeliveryRow.agency_id == agency_id))


def _wait(e: EngineUnderTest, agency_id: str, check: object, timeout: float = 10.0) -> list[DeliveryRow]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _deliveries(e, agency_id)
        if check(rows):  # type: ignore[operator]
            return rows
        if time.monotonic() > deadline:
            raise AssertionError([(r.state, r.attempts, r.last_error) for r in rows])
        time.sleep(0.05)


def test_a_redirect_is_not_followed(engine: EngineUnderTest, receivers: list[_Receiver]) -> None:
    target = _Receiver()
    receivers.append(target)
    hop = _Receiver(redirect_to=f"http://127.0.0.1:{target.port}/internal-admin")
    receivers.append(hop)
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE, endpoint=f"http://127.0.0.1:{hop.port}/hook")
    assert (
        engine.http.post("/api/v1/requests", headers=police.headers, json=request_body("R-1")).status_code
        == 201
    )
    rows = _wait(engine, police.id, lambda rows: any(r.attempts >= 1 for r in rows))
    assert any(r.last_error == "HTTP 302" for r in rows)
    assert hop.hits >= 1 and target.hits == 0


def test_dns_rebinding_is_caught_at_connect_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receivers: list[_Receiver]
) -> None:
    receiver = _Receiver()
    receivers.append(receiver)
    answers = {"now": ["127.0.0.1"]}

    async def rebinding(host: str, port: int) -> list[str]:
        assert host == "agency.rebind.test"
        return list(answers["now"])

    monkeypatch.setattr(egress, "resolve_host", lambda host, port: ["93.184.216.34"])  # at registration
    monkeypatch.setattr(egress, "aresolve", rebinding)  # at each connection
    # The resolver is patched in this process, so the sending runs here too (the same Poster as the
    # delivery sender process; tests/engine/test_delivery_sender.py checks the guard in that process).
    e = start_engine(
        tmp_path, outbox={"allow_http": True, "retry_schedule_s": [0.2, 0.2, 0.2], "sender_process": False}
    )
    try:
        e.add_cameras(grid_cameras())
        police = e.add_agency(
            "Jinju 112", AgencyKind.POLICE, endpoint=f"http://agency.rebind.test:{receiver.port}/hook"
        )
        assert (
            e.http.post("/api/v1/requests", headers=police.headers, json=request_body("D-1")).status_code
            == 201
        )
        _wait(e, police.id, lambda rows: rows and all(r.state == "delivered" for r in rows))
        hits = receiver.hits
        assert hits >= 1
        # The name now points inside the network: the next delivery is refused before any connection.
        answers["now"] = ["10.9.8.7"]
        assert (
            e.http.post("/api/v1/requests", headers=police.headers, json=request_body("D-2")).status_code
            == 201
        )
        rows = _wait(e, police.id, lambda rows: any("private address" in (r.last_error or "") for r in rows))
        assert receiver.hits == hits
        assert any("refused" in (r.last_error or "") for r in rows)
    finally:
        e.close()

"""Quotas on live video (issue 12): at most ``viewers_per_share`` viewers of one camera of a share and
``streams_per_agency`` streams of an agency at once, enforced where the media process admits a viewer;
a viewer that leaves frees its slot. Real streams from the camera simulator through the media process."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.domain.enums import AgencyKind
from app.store.models import AuditRow
from tests.engine.conftest import EngineUnderTest, request_body, sim_cameras, start_engine


def _engine(tmp_path: Path, camera_sim: object, **settings: object) -> EngineUnderTest:
    e = start_engine(tmp_path, **settings)
    e.add_cameras(sim_cameras(camera_sim, sub=False))
    return e


@pytest.fixture
def quota_engine(tmp_path: Path, camera_sim: object) -> Iterator[EngineUnderTest]:
    e = _engine(tmp_path, camera_sim)
    yield e
    e.close()


@contextlib.contextmanager
def watching(client: httpx.Client, url: str) -> Iterator[httpx.Response]:
    """A stream held open (its first bytes read, so it is admitted and flowing)."""
    with client.stream("GET", url) as r:
        if r.status_code == 200:
            chunks = r.iter_raw()  # kept: a dropped iterator closes the response
            next(chunks)
        else:
            r.read()
        yield r


def _admitted_again(client: httpx.Client, url: str, deadline_s: float = 5.0) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with watching(client, url) as r:
            if r.status_code == 200:
                return True
        time.sleep(0.05)  # poll interval while the relay notices the disconnect
    return False


def test_a_ninth_viewer_of_a_share_is_refused_and_one_leaving_frees_its_slot(
    quota_engine: EngineUnderTest,
) -> None:
    e = quota_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("Q-1")).json()[
        "shares"
    ][0]
    url = share["urls"]["CAM-1"]
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=0)
    with httpx.Client(timeout=15, limits=limits) as client, contextlib.ExitStack() as stack:
        held = [stack.enter_context(watching(client, url)) for _ in range(8)]
        assert [r.status_code for r in held] == [200] * 8
        with watching(client, url) as ninth:
            assert ninth.status_code == 429
            assert ninth.headers["content-type"].startswith("application/problem+json")
            assert "8 viewers of camera CAM-1" in ninth.json()["detail"]
        # The same through the browser's WebSocket: the problem, then close code 4429.
        ws_url = url.replace("http://", "ws://").replace(".ts", ".ws")
        with connect(ws_url, open_timeout=10) as ws:
            msg = json.loads(ws.recv(timeout=10))
            assert msg["type"] == "error" and msg["status"] == 429
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
            assert ws.close_code == 4429 and ws.close_reason == "Too many viewers"
        # The engine audited both refused viewings' start when it authorised them; each is closed (0 bytes).
        deadline = time.monotonic() + 5
        while True:
            with e.server.uow.read() as s:
                rows = s.query(AuditRow).filter(AuditRow.action.in_(("video.view.start", "video.view"))).all()
            starts = {r.detail.get("viewing") for r in rows if r.action == "video.view.start"}
            closed = [r for r in rows if r.action == "video.view" and r.detail.get("bytes") == 0]
            if len(closed) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(closed) == 2 and {r.detail.get("viewing") for r in closed} <= starts
        # Another camera of the same share has its own eight.
        with watching(client, share["urls"]["CAM-2"]) as other:
            assert other.status_code == 200
        # One viewer leaves: a new one is admitted.
        held[0].close()
        assert _admitted_again(client, url)


def test_an_agency_beyond_its_concurrent_streams_is_refused(tmp_path: Path, camera_sim: object) -> None:
    e = _engine(tmp_path, camera_sim, agency_access={"limits": {"streams_per_agency": 2}})
    try:
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        urls = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("Q-2")).json()[
            "shares"
        ][0]["urls"]
        assert {"CAM-1", "CAM-2", "CAM-3"} <= set(urls)
        with httpx.Client(timeout=15) as client, contextlib.ExitStack() as stack:
            first = stack.enter_context(watching(client, urls["CAM-1"]))
            second = stack.enter_context(watching(client, urls["CAM-2"]))
            assert first.status_code == second.status_code == 200
            with watching(client, urls["CAM-3"]) as third:
                assert third.status_code == 429
                assert "2 streams open" in third.json()["detail"]
            first.close()
            assert _admitted_again(client, urls["CAM-3"])
    finally:
        e.close()

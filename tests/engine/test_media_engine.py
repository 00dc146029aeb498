"""Live video through the engine: shares and console grants play, revocation cuts, reports carry a snapshot."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import av
import httpx
import pytest
from sqlalchemy import select

from app.domain.enums import AgencyKind
from app.store.models import AuditRow
from tests.engine.conftest import EngineUnderTest, request_body, sim_cameras, start_engine


@pytest.fixture
def video_engine(tmp_path: Path, camera_sim: object) -> EngineUnderTest:
    e = start_engine(tmp_path)
    cams = sim_cameras(camera_sim)
    e.add_cameras(cams)
    yield e  # type: ignore[misc]
    e.close()


def _read_some(url: str, n: int = 200_000, timeout: float = 15.0) -> tuple[int, bytes]:
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as r:
        if r.status_code != 200:
            r.read()
            return r.status_code, r.content
        buf = bytearray()
        for chunk in r.iter_raw():
            buf += chunk
            if len(buf) >= n:
                break
        return 200, bytes(buf)


def _seconds_until_cut(url: str, cut: Callable[[], None]) -> float:
    """Start watching ``url``, call ``cut`` once video flows, and time how long the stream keeps going."""
    with httpx.stream("GET", url, timeout=15, follow_redirects=True) as stream:
        assert stream.status_code == 200
        chunks = stream.iter_raw()
        next(chunks)
        cut()
        started = time.monotonic()
        for _ in chunks:
            if time.monotonic() - started > 5:
                pytest.fail("the stream kept going after its access ended")
        return time.monotonic() - started


def _probe(ts: bytes) -> tuple[str, int, int]:
    with av.open(io.BytesIO(ts), format="mpegts") as c:
        s = c.streams.video[0]
        return s.codec_context.name, s.codec_context.width, s.codec_context.height


def test_share_urls_play_the_main_stream_and_viewing_is_audited(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    r = e.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("V-1"),
    )
    urls = r.json()["shares"][0]["urls"]
    # The chosen cameras' upstreams open before anyone asks (pre-warming).
    media = e.server.media

    def channels() -> set[str]:
        return {c["camera_id"] for c in media.request_threadsafe({"t": "stats"})["channels"]}

    deadline = time.monotonic() + 10
    while channels() != {"CAM-1", "CAM-2", "CAM-3"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert channels() == {"CAM-1", "CAM-2", "CAM-3"}
    # ... in the media process, not in the engine's
    assert media.supervisor.pid is not None and media.supervisor.pid != os.getpid()
    status, ts = _read_some(urls["CAM-1"])
    assert status == 200
    assert _probe(ts) == ("h264", 1280, 720)
    # The viewing is recorded when it ends.
    deadline = time.monotonic() + 10
    while True:
        with e.server.uow.read() as s:
            rows = s.scalars(select(AuditRow).where(AuditRow.action == "video.view")).all()
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (
        rows
        and rows[0].actor == "agency:Jinju 112"
        and rows[0].target_id == "CAM-1"
        and rows[0].detail["bytes"] > 0
        and rows[0].client == "127.0.0.1"  # the viewer's address (issue 13)
    )
    # Its start was recorded at admission (before the first byte), joined to the end by its viewing id,
    # and both rows name the agency by id and name. The redirect from the engine's port admitted nobody.
    with e.server.uow.read() as s:
        starts = s.scalars(select(AuditRow).where(AuditRow.action == "video.view.start")).all()
    end = rows[0]
    mine = [x for x in starts if x.detail.get("viewing") == end.detail.get("viewing")]
    assert end.detail.get("viewing") and len(mine) == 1, [(x.id, x.detail) for x in starts]
    start = mine[0]
    assert start.id < end.id
    assert start.target_id == "CAM-1" and start.client == "127.0.0.1"
    assert start.detail["agencies"] == end.detail["agencies"] == {police.id: "Jinju 112"}


def test_console_grant_plays_the_sub_stream(video_engine: EngineUnderTest) -> None:
    e = video_engine
    op = e.add_user()
    grant = e.http.post("/api/v1/media/grants", headers=op)
    assert grant.status_code == 201, grant.text
    status, ts = _read_some(f"{e.url}/media/{grant.json()['token']}/CAM-2~sub.ts")
    assert status == 200 and _probe(ts) == ("h264", 640, 360)


def test_revoking_a_share_cuts_the_viewer_within_a_second(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    op = e.add_user()
    r = e.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("V-2"),
    )
    share = r.json()["shares"][0]
    cut_after = _seconds_until_cut(
        share["urls"]["CAM-1"],
        lambda: e.http.delete(f"/api/v1/shares/{share['id']}", headers=op).raise_for_status(),
    )
    assert cut_after < 1.5, cut_after
    again = e.http.get(share["urls"]["CAM-1"])
    assert again.status_code == 403 and again.headers["content-type"].startswith("application/problem+json")


def test_bad_media_requests_get_problems(video_engine: EngineUnderTest) -> None:
    e = video_engine
    op = e.add_user()
    token = e.http.post("/api/v1/media/grants", headers=op).json()["token"]
    assert e.http.get(f"{e.url}/media/not-a-token/CAM-1.ts").status_code == 401
    assert e.http.get(f"{e.url}/media/{token}/NOPE.ts").status_code == 404
    assert e.http.get(f"{e.url}/media/{token}/..%2F..%2Fetc.ts").status_code in (401, 404)


def test_report_to_119_carries_a_snapshot(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = e.add_agency("Jinju 119", AgencyKind.FIRE)
    op = e.add_user()
    iid = e.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json=request_body("V-3"),
    ).json()["incident"]["id"]
    rep = e.http.post(
        f"/api/v1/incidents/{iid}/reports",
        headers=op,
        json={"agency_id": fire.id, "kind": "fire", "note": "smoke on CCTV", "camera_id": "CAM-3"},
    )
    assert rep.status_code == 201
    url = rep.json()["snapshot_url"]
    assert url and url.endswith(".jpg")
    deadline = time.monotonic() + 20
    while True:
        r = httpx.get(url, timeout=10)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    with av.open(io.BytesIO(r.content), format="mjpeg") as c:
        frame = next(c.decode(video=0))
    assert (frame.width, frame.height) == (1280, 720)


def test_logging_out_cuts_the_consoles_video_within_a_second(video_engine: EngineUnderTest) -> None:
    e = video_engine
    op = e.add_user()
    token = e.http.post("/api/v1/media/grants", headers=op).json()["token"]

    def log_out() -> None:
        assert e.http.delete("/api/v1/sessions", headers=op).status_code == 204

    cut_after = _seconds_until_cut(f"{e.url}/media/{token}/CAM-1~sub.ts", log_out)
    assert cut_after < 1.5, cut_after
    assert e.http.get(f"{e.url}/media/{token}/CAM-1~sub.ts").status_code == 403


def test_a_viewing_is_in_the_ledger_from_its_start_open_until_it_ends(video_engine: EngineUnderTest) -> None:
    """A viewing that has not ended (still playing, or the engine died) is in the ledger with its start
    and no end; once it ends, the same viewing carries its end and duration."""
    from app.domain.enums import Role

    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    sup = e.add_user("sup", Role.SUPERVISOR)
    r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("V-L"))
    share = r.json()["shares"][0]

    def viewings() -> list[dict[str, object]]:
        rows = e.http.get("/api/v1/ledger", headers=sup)
        assert rows.status_code == 200, rows.text
        return [v for row in rows.json() if row["share_id"] == share["id"] for v in row["viewings"]]

    media = e.server.media
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the chosen cameras open before anyone asks (pre-warming)
        if "CAM-2" in {c["camera_id"] for c in media.request_threadsafe({"t": "stats"})["channels"]}:
            break
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while True:  # under load the camera may not have sent video yet (503: that viewing ends at once)
        with httpx.stream("GET", share["urls"]["CAM-2"], timeout=15, follow_redirects=True) as stream:
            if stream.status_code != 200:
                assert stream.status_code == 503 and time.monotonic() < deadline, stream.status_code
                stream.read()
                continue
            # Keep the iterator: a dropped one closes the connection at once, which ends the viewing.
            chunks = stream.iter_raw()
            next(chunks)
            seen = time.monotonic() + 5  # the ledger is read on its own connection: poll, do not race it
            while not (open_ones := [v for v in viewings() if v["ended_at"] is None]):
                assert time.monotonic() < seen, viewings()
                time.sleep(0.05)
            assert len(open_ones) == 1, viewings()
            assert open_ones[0]["camera_id"] == "CAM-2" and open_ones[0]["actor"] == "agency:Jinju 112"
            viewing = open_ones[0]["viewing_id"]
            assert viewing and open_ones[0]["started_at"]
            break
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [v for v in viewings() if v["viewing_id"] == viewing]
        if done and done[0]["ended_at"] is not None:
            break
        time.sleep(0.05)
    assert len(done) == 1 and done[0]["ended_at"] is not None and done[0]["seconds"] is not None, done

"""The media relay in its own process: killing it never stops intake, and video comes back by itself."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.domain.enums import AgencyKind
from tests.engine.conftest import EngineUnderTest, request_body, sim_cameras, start_engine


@pytest.fixture
def video_engine(tmp_path: Path, camera_sim: object) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path)
    e.add_cameras(sim_cameras(camera_sim))
    yield e
    e.close()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _first_bytes(url: str, n: int = 50_000) -> int:
    """Status of ``url``; on 200, reads ``n`` bytes of video first."""
    with httpx.stream("GET", url, timeout=10, follow_redirects=True) as r:
        if r.status_code != 200:
            return r.status_code
        got = 0
        for chunk in r.iter_raw():
            got += len(chunk)
            if got >= n:
                break
        return 200


@pytest.mark.slow
def test_sigkill_of_the_media_process_leaves_intake_up_and_video_returns(
    video_engine: EngineUnderTest,
) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("K-1")).json()[
        "shares"
    ][0]
    url = share["urls"]["CAM-1"]
    assert _first_bytes(url) == 200
    media = e.server.media
    pid = media.supervisor.pid
    assert pid is not None and pid != os.getpid()
    health = e.http.get("/api/v1/health").json()["media"]
    assert health["state"] == "running" and health["pid"] == pid and health["restarts"] == 0
    pullers = [c["pid"] for c in media.request_threadsafe({"t": "stats"})["channels"] if c["pid"]]
    assert pullers and all(_parent(p) == pid for p in pullers)  # ffmpeg -c copy children of the media process

    with httpx.stream("GET", url, timeout=10, follow_redirects=True) as watching:
        chunks = watching.iter_raw()
        next(chunks)
        os.kill(pid, signal.SIGKILL)
        # The viewer's stream ends (its process is gone) ...
        deadline = time.monotonic() + 5
        with pytest.raises(httpx.HTTPError):
            for _ in chunks:
                assert time.monotonic() < deadline, "the stream outlived its process"
    killed_at = time.monotonic()
    # Its ffmpeg children die with it (nothing keeps pulling the cameras for nobody).
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pullers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pullers)
    # ... while intake, the API and the live feed keep answering.
    r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("K-2"))
    assert r.status_code == 201, r.text
    assert e.http.get("/api/v1/health").status_code == 200
    # The supervisor starts a new process, and the same URL plays again within a few seconds.
    while True:
        status = _first_bytes(url)
        if status == 200 or time.monotonic() - killed_at > 10:
            break
    assert status == 200
    assert time.monotonic() - killed_at < 6
    health = e.http.get("/api/v1/health").json()["media"]
    assert health["restarts"] == 1 and health["pid"] not in (None, pid)
    assert health["last_exit"] == "killed by SIGKILL"


def test_the_browser_websocket_answers_problems_and_plays(video_engine: EngineUnderTest) -> None:
    """``WS /media/{token}/{camera}.ws`` on the media port: a refused token gets the problem and a close
    code that says why; a share's camera gets its codec, then the init segment and the cached GOP."""
    import json as _json

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("K-3")).json()[
        "shares"
    ][0]
    ws_base = e.server.media.base_url().replace("http://", "ws://")
    token = share["viewer_url"].rsplit("/", 1)[1]
    with connect(f"{ws_base}/media/not-a-share-token/CAM-1.ws", open_timeout=10) as ws:
        problem = _json.loads(ws.recv(timeout=10))
        assert problem["type"] == "error" and problem["status"] == 401
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with connect(f"{ws_base}/media/{token}/CAM-1.ws", open_timeout=10, max_size=None) as ws:
        start = _json.loads(ws.recv(timeout=15))
        assert start["type"] == "start" and start["codec"].startswith("avc1.") and start["width"] == 1280
        first = ws.recv(timeout=10)
        assert isinstance(first, bytes) and first[4:8] == b"ftyp" and b"moov" in first[:4096]


@pytest.mark.slow
def test_a_media_process_that_keeps_dying_is_restarted_with_growing_backoff(
    video_engine: EngineUnderTest,
) -> None:
    e = video_engine
    supervisor = e.server.media.supervisor
    assert e.server.media.request_threadsafe({"t": "ping"})["pid"] == supervisor.pid  # started on demand
    delays = []
    for kills in range(1, 4):
        pid = supervisor.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while not (supervisor.restarts == kills and supervisor.state == "running" and supervisor.pid != pid):
            assert time.monotonic() < deadline, e.http.get("/api/v1/health").json()["media"]
            time.sleep(0.05)
        health = e.http.get("/api/v1/health").json()["media"]
        assert health["last_exit"] == "killed by SIGKILL" and health["restarts"] == kills
        delays.append(health["restart_delay_s"])
    assert delays == [0.2, 0.4, 0.8]
    assert e.http.get("/api/v1/incidents", headers=e.add_user()).status_code == 200  # the API never noticed

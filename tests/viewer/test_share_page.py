"""The share page in a real browser (Debian's headless Chromium over DevTools): every camera plays,
revocation stops it and says why, the page is self-contained under a strict CSP."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, Purpose
from tests.engine.conftest import JINJU, EngineUnderTest, request_body, start_engine
from tests.viewer.chromium import CHROMIUM, Chromium

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
]

PLAYING = """(() => {
  const v = window.gtViewer; if (!v) return null;
  const vids = [...document.querySelectorAll('video')];
  return {ended: v.ended, cams: Object.values(v.cameras).map(c => ({id: c.id, state: c.state, frames: c.frames,
    sub: c.sub, codec: c.codec})), times: vids.map(x => x.currentTime),
    decoded: vids.map(x => x.getVideoPlaybackQuality().totalVideoFrames), banner: document.getElementById('banner').textContent};
})()"""


@pytest.fixture
def video_engine(tmp_path: Path, camera_sim: Any) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path)
    e.add_cameras(
        [
            Camera(
                f"CAM-{i}",
                f"Camera {i}",
                JINJU[0] + i * 0.0003,
                JINJU[1] + 0.0002,
                Purpose.CRIME,
                direction_deg=90.0 * i,
                stream_main=c.main_url,
                stream_sub=c.sub_url,
            )
            for i, c in enumerate(camera_sim.cameras, start=1)
        ]
    )
    yield e
    e.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as b:
        yield b


def _share(e: EngineUnderTest, external_id: str) -> tuple[dict[str, Any], Any]:
    police = e.add_agency(f"Jinju 112 {external_id}", AgencyKind.POLICE)
    body = e.http.post("/api/v1/requests", headers=police.headers, json=request_body(external_id)).json()
    return body["shares"][0], police


def _all_playing(page: Any, count: int) -> dict[str, Any]:
    def check() -> Any:
        s = page.eval(PLAYING)
        return s if s and len(s["cams"]) == count and all(c["frames"] >= 5 for c in s["cams"]) else None

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s = check()
        if s:
            return s
        time.sleep(0.1)
    raise AssertionError(f"not every camera played: {page.eval(PLAYING)}")


@pytest.mark.slow
def test_the_share_page_plays_every_camera_and_revocation_stops_it(
    video_engine: EngineUnderTest, browser: Chromium
) -> None:
    e = video_engine
    share, _ = _share(e, "W-1")
    url = share["viewer_url"]
    assert url == f"{e.url}/view/{url.rsplit('/', 1)[1]}"
    # The page and its assets come from the engine, under a strict policy.
    r = httpx.get(url)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert "://" not in r.text  # every asset is the engine's own (no CDN)
    for asset in ("viewer.js", "viewer.css"):
        assert httpx.get(f"{e.url}/view/static/{asset}").status_code == 200
    page = browser.open(url + "?lang=en")
    first = _all_playing(page, len(share["camera_ids"]))
    if os.environ.get("GT_SHOTS"):
        page.screenshot(os.environ["GT_SHOTS"] + "/share-page-en.png")
    time.sleep(1.0)  # let time pass; the videos must advance
    later = page.eval(PLAYING)
    assert all(b > a for a, b in zip(first["times"], later["times"], strict=True)), (first, later)
    assert all(d > 0 for d in later["decoded"])
    assert {c["id"] for c in later["cams"]} == set(share["camera_ids"])
    assert all(c["state"] == "live" and c["codec"].startswith("avc1.") for c in later["cams"])
    # Names, distance and direction, place, countdown.
    text = page.eval("document.body.innerText")
    assert (
        "Camera 1" in text and " m " in text and "of the incident" in text and "Video available for" in text
    )

    op = e.add_user()
    revoked_at = time.monotonic()
    assert e.http.delete(f"/api/v1/shares/{share['id']}", headers=op).status_code == 200
    page.wait_for("window.gtViewer.ended", timeout=5, what="the page to stop")
    stopped_after = time.monotonic() - revoked_at
    state = page.eval(PLAYING)
    assert state["ended"] == "revoked" and "revoked" in state["banner"]
    assert stopped_after < 1.5, stopped_after
    assert all(c["state"] == "stopped" for c in state["cams"])
    page.close()


@pytest.mark.slow
def test_the_share_page_speaks_korean_and_stops_at_expiry(
    video_engine: EngineUnderTest, browser: Chromium
) -> None:
    e = video_engine
    share, _ = _share(e, "W-2")
    op = e.add_user()
    page = browser.open(share["viewer_url"] + "?lang=ko")
    _all_playing(page, len(share["camera_ids"]))
    text = page.eval("document.body.innerText")
    assert "실시간" in text and "사건 지점" in text
    # Shorten the share to end in a second (behind the page's back: its countdown still shows the old
    # expiry): the engine notices, pushes the end to the media process, and the page stops and says why.
    from datetime import timedelta

    from app.store.models import ShareRow

    with e.server.uow.writing() as s:
        row = s.get(ShareRow, share["id"])
        assert row is not None
        row.expires_at = e.server.ctx.now() + timedelta(seconds=1)
    expires = time.monotonic() + 1
    page.wait_for("window.gtViewer.ended", timeout=5, what="the page to stop at expiry")
    assert time.monotonic() - expires < 1.5
    assert page.eval("window.gtViewer.ended") == "expired"
    assert "공유 기간이 끝나" in page.eval("document.getElementById('banner').textContent")
    assert op  # the operator exists (keeps the fixture's users realistic)
    page.close()


@pytest.mark.slow
def test_video_returns_after_the_media_process_is_killed(
    video_engine: EngineUnderTest, browser: Chromium
) -> None:
    e = video_engine
    share, police = _share(e, "W-3")
    page = browser.open(share["viewer_url"])
    _all_playing(page, len(share["camera_ids"]))
    pid = e.server.media.supervisor.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("W-3b"))
    assert r.status_code == 201  # intake never noticed
    connects = {c["id"]: c["connects"] for c in page.eval("Object.values(window.gtViewer.cameras)")}
    page.wait_for(
        "Object.values(window.gtViewer.cameras).every(c => c.connects > 1 && c.state === 'live')"
        " && !window.gtViewer.ended",
        timeout=10,
        what="every camera to play again",
    )
    back = time.monotonic() - killed
    frames = json.dumps(page.eval("Object.values(window.gtViewer.cameras).map(c => c.frames)"))
    assert back < 6, back
    assert connects and frames
    page.close()

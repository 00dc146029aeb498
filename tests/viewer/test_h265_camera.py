"""An H.265 camera: passed through untouched (TS for consoles and players), and in a browser that cannot
decode H.265 the share page plays the camera's H.264 sub stream and says so."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, Purpose
from tests.engine.conftest import JINJU, EngineUnderTest, request_body, start_engine
from tests.viewer.chromium import CHROMIUM, Chromium

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
]


@pytest.fixture(scope="module")
def hevc_sim() -> Iterator[Any]:
    from app.sim.cameras import CameraSim

    if shutil.which("ffmpeg") is None or not Path("/usr/bin/python3").exists():
        pytest.skip("camera simulator needs ffmpeg and Debian's python3-gi")
    with CameraSim(2, hevc=[2], names=["H264-CAM", "H265-CAM"]) as sim:
        yield sim


@pytest.fixture
def engine(tmp_path: Path, hevc_sim: Any) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path)
    e.add_cameras(
        [
            Camera(
                f"CAM-{i}",
                c.name,
                JINJU[0] + i * 0.0003,
                JINJU[1],
                Purpose.CRIME,
                stream_main=c.main_url,
                stream_sub=c.sub_url,
            )
            for i, c in enumerate(hevc_sim.cameras, start=1)
        ]
    )
    yield e
    e.close()


@pytest.mark.slow
def test_h265_passes_through_and_the_page_plays_the_h264_sub_stream(engine: EngineUnderTest) -> None:
    e = engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("H-1")).json()[
        "shares"
    ][0]
    assert set(share["camera_ids"]) == {"CAM-1", "CAM-2"}
    # Consoles and players get the H.265 main stream as it is: copied, never transcoded.
    with httpx.stream("GET", share["urls"]["CAM-2"], timeout=15, follow_redirects=True) as r:
        assert r.status_code == 200
        data = bytearray()
        for chunk in r.iter_raw():
            data += chunk
            if len(data) > 150_000:
                break
    with av.open(io.BytesIO(bytes(data)), format="mpegts") as c:
        ctx = c.streams.video[0].codec_context
        assert (ctx.name, ctx.width, ctx.height) == ("hevc", 1280, 720)
    # The browser (Chromium here: no H.265 in MSE) plays the H.264 sub stream of that camera, and says so.
    with Chromium() as browser:
        page = browser.open(share["viewer_url"] + "?lang=en")
        assert page.eval("MediaSource.isTypeSupported('video/mp4; codecs=\"hev1.1.6.L93.B0\"')") is False
        page.wait_for(
            "Object.values(window.gtViewer.cameras).length === 2 && "
            "Object.values(window.gtViewer.cameras).every(c => c.state === 'live' && c.frames >= 5)",
            timeout=20,
            what="both cameras to play",
        )
        cams = {c["id"]: c for c in page.eval("Object.values(window.gtViewer.cameras)")}
        assert cams["CAM-1"]["sub"] is False and cams["CAM-1"]["codec"].startswith("avc1.")
        assert cams["CAM-2"]["sub"] is True and cams["CAM-2"]["codec"].startswith("avc1.")
        note = page.eval("document.querySelector('[data-camera=\"CAM-2\"] .note').textContent")
        assert "H.265" in note and "sub stream" in note
        size = page.eval("(() => { const v = document.querySelector('[data-camera=\"CAM-2\"] video');"
                         " return [v.videoWidth, v.videoHeight]; })()")  # fmt: skip
        assert size == [640, 360]
        time.sleep(0.2)
        page.close()


@pytest.fixture
def hevc_only_engine(tmp_path: Path, hevc_sim: Any) -> Iterator[EngineUnderTest]:
    """One camera, H.265 on its only stream (no H.264 sub stream to fall back to)."""
    e = start_engine(tmp_path)
    cam = hevc_sim.cameras[1]
    e.add_cameras([Camera("CAM-H", cam.name, JINJU[0], JINJU[1], Purpose.CRIME, stream_main=cam.main_url)])
    yield e
    e.close()


@pytest.mark.slow
def test_h265_only_camera_plays_through_one_shared_transcode(hevc_only_engine: EngineUnderTest) -> None:
    e = hevc_only_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("H-2")).json()[
        "shares"
    ][0]
    assert share["camera_ids"] == ["CAM-H"]
    # Two viewers, each in its own browser (Chromium defers media in a background tab).
    with Chromium() as first, Chromium() as second:
        pages = [first.open(share["viewer_url"] + "?lang=en"), second.open(share["viewer_url"] + "?lang=en")]
        for page in pages:
            page.wait_for(
                "(() => { const c = window.gtViewer.cameras['CAM-H'];"
                " return c && c.state === 'live' && c.frames >= 5; })()",
                timeout=30,
                what="the H.265-only camera to play",
            )
            cam = page.eval("window.gtViewer.cameras['CAM-H']")
            assert cam["transcoded"] is True and cam["sub"] is False and cam["codec"].startswith("avc1.")
            note = page.eval("document.querySelector('[data-camera=\"CAM-H\"] .note').textContent")
            assert "converts it to H.264" in note and "hev1." in note
            size = page.eval("(() => { const v = document.querySelector('[data-camera=\"CAM-H\"] video');"
                             " return [v.videoWidth, v.videoHeight]; })()")  # fmt: skip
            assert size == [1280, 720]
        # Both pages watch one transcoding child: one channel for the camera's transcode, two viewers.
        channels = e.server.media.request_threadsafe({"t": "stats"})["channels"]
        transcodes = [c for c in channels if c["camera_id"] == "CAM-H" and c["url"].endswith("#h264")]
        assert len(transcodes) == 1 and transcodes[0]["viewers"] == 2 and transcodes[0]["pid"]
        assert transcodes[0]["codec"] == "h264" and transcodes[0]["mime_codec"].startswith("avc1.")
        copies = [c for c in channels if c["camera_id"] == "CAM-H" and not c["url"].endswith("#h264")]
        assert all(c["codec"] == "hevc" for c in copies)  # the copy (consoles, players) stays H.265
        for page in pages:
            page.close()

"""The camera simulator: a real GStreamer RTSP server checked with ffprobe and PyAV; faults on command."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from app.sim.cameras import CameraSim, CameraSimError, run_camera_sim

OPTIONS = {"rtsp_transport": "tcp", "probesize": "32768", "analyzeduration": "500000", "fflags": "nobuffer"}


@pytest.fixture(scope="module")
def cameras() -> Iterator[CameraSim]:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.skip("ffmpeg/ffprobe not installed")
    if not Path("/usr/bin/python3").exists():
        pytest.skip("the camera simulator needs Debian's /usr/bin/python3 with python3-gi")
    with CameraSim(3) as sim:
        yield sim


def ffprobe(url: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp",
         "-show_entries", "stream=codec_name,profile,width,height,r_frame_rate", "-of", "json", url],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    streams = json.loads(out.stdout)["streams"]
    assert len(streams) == 1
    return dict(streams[0])


def open_rtsp(url: str, read_timeout: float = 5.0) -> Any:
    return av.open(url, options=OPTIONS, timeout=(10.0, read_timeout))


@pytest.mark.parametrize(
    ("i", "stream", "size"), [(1, "main", (1280, 720)), (1, "sub", (640, 360)), (2, "main", (1280, 720))]
)
def test_streams_are_h264_baseline(cameras: CameraSim, i: int, stream: str, size: tuple[int, int]) -> None:
    info = ffprobe(cameras.url(i, stream))  # type: ignore[arg-type]
    assert info["codec_name"] == "h264"
    assert info["profile"] == "Constrained Baseline"
    assert (info["width"], info["height"]) == size
    assert info["r_frame_rate"] == "15/1"


def test_a_keyframe_every_second(cameras: CameraSim) -> None:
    keys: list[int] = []
    container = open_rtsp(cameras.url(2, "sub"))
    with container:
        for n, packet in enumerate(p for p in container.demux(video=0) if p.dts is not None):
            if packet.is_keyframe:
                keys.append(n)
            if n >= 50:
                break
    assert len(keys) >= 3
    assert {b - a for a, b in itertools.pairwise(keys)} == {15}  # 15 fps, GOP 15


def test_offline_ends_sessions_and_refuses_then_online(cameras: CameraSim) -> None:
    url = cameras.url(3)
    container = open_rtsp(url)
    try:
        packets = container.demux(video=0)
        for _, _packet in zip(range(5), packets, strict=False):
            pass
        cameras.offline(3)
        assert cameras.states()[3] == "offline"
        t0 = time.monotonic()
        with pytest.raises((StopIteration, av.FFmpegError)):
            while True:  # the session ends: demux stops (or errors) well before the read timeout
                next(packets)
        assert time.monotonic() - t0 < 4.0
    finally:
        container.close()
    with pytest.raises(av.error.HTTPNotFoundError):  # RTSP 404: the camera refuses
        open_rtsp(url).close()
    cameras.online(3)
    assert cameras.states()[3] == "online"
    container = open_rtsp(url)
    with container:
        assert next(p for p in container.demux(video=0) if p.dts is not None).size > 0


def test_stall_keeps_the_session_then_resumes(cameras: CameraSim) -> None:
    container = open_rtsp(cameras.url(3, "sub"), read_timeout=10.0)
    stall_for = 1.5
    with container:
        arrivals: list[float] = []
        resume = threading.Timer(stall_for, cameras.online, args=(3,))  # the fault's duration, not a sync
        try:
            for packet in container.demux(video=0):
                if packet.dts is None:
                    continue
                arrivals.append(time.monotonic())
                if len(arrivals) == 5:
                    cameras.stall(3)
                    resume.start()
                if len(arrivals) >= 10:
                    break
        finally:
            resume.cancel()
            cameras.online(3)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) > stall_for * 0.7  # packets stopped on the open session ...
    assert len(arrivals) >= 10  # ... and flowed again on the same one


def test_control_endpoint(cameras: CameraSim) -> None:
    with urllib.request.urlopen(f"{cameras.control_url}/cameras", timeout=10) as resp:
        listing = json.load(resp)
    assert [c["index"] for c in listing] == [1, 2, 3]
    assert listing[0]["paths"] == {"main": "/cam1/main", "sub": "/cam1/sub"}
    for path, code in (("/cameras/99/offline", 404), ("/cameras/1/explode", 400), ("/nope", 404)):
        req = urllib.request.Request(cameras.control_url + path, data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == code
    with pytest.raises(CameraSimError):
        cameras.stall(99)
    with pytest.raises(IndexError):
        cameras.url(4)


def test_cameras_beyond_the_distinct_clips_reuse_them() -> None:
    sim = CameraSim(5, distinct=2)
    cams = sim.prepare_clips()
    assert [c["name"] for c in cams] == ["CAM-01", "CAM-02", "CAM-03", "CAM-04", "CAM-05"]
    assert cams[2]["main"] == cams[0]["main"] and cams[3]["sub"] == cams[1]["sub"]
    assert cams[0]["main"] != cams[1]["main"]


def test_run_camera_sim_prints_urls(capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/usr/bin/python3").exists():
        pytest.skip("needs /usr/bin/python3")
    stop = threading.Event()
    stop.set()  # serve, print, and return at once
    assert run_camera_sim(2, port=0, control_port=None, stop=stop) == 0
    out = capsys.readouterr().out
    assert "/cam1/main" in out and "/cam2/sub" in out and "/cameras/1/offline" in out

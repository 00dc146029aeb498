"""Fixtures for the video layer: a live H.264 MPEG-TS over HTTP on 127.0.0.1 and backend factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from video_ts_server import LiveTsServer, encode_test_clip

from app.video.choice import BackendSetting
from app.video.factory import BackendFactory


@pytest.fixture(scope="session")
def ts_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20 s 640×360 15 fps H.264 test pattern in MPEG-TS, encoded once per session (~0.5 s CPU)."""
    return encode_test_clip(tmp_path_factory.mktemp("video") / "clip-640x360.ts")


@pytest.fixture
def ts_server(ts_clip: Path) -> Iterator[LiveTsServer]:
    """A live stream of the clip on a free loopback port; ``stop()``/``start()`` kill and revive it."""
    server = LiveTsServer(ts_clip)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def factory() -> Iterator[BackendFactory]:
    """Backend factory with the ``auto`` setting; its libVLC runtime is closed at the end."""
    made = BackendFactory(BackendSetting.AUTO)
    yield made
    made.close()

"""Fixtures for the media relay tests: the real camera simulator (session-wide)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.sim.cameras import CameraSim

SIM_PYTHON = Path("/usr/bin/python3")


def _sim_available() -> str | None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        return "ffmpeg/ffprobe not installed"
    if not SIM_PYTHON.exists():
        return "/usr/bin/python3 missing (the camera simulator needs Debian's python3-gi)"
    return None


@pytest.fixture(scope="session")
def camera_sim() -> Iterator[CameraSim]:
    """Three simulated cameras for the whole session (clips are cached between runs)."""
    reason = _sim_available()
    if reason:
        pytest.skip(reason)
    with CameraSim(3) as sim:
        yield sim


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

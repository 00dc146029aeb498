"""Test-wide setup: environment that must exist before Qt or the engine is imported, and shared fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# QtWebEngine refuses to run as root without this (docs/STACK.md); harmless otherwise.
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
# Under Xvfb the OpenGL path of QVideoWidget costs a core per tile (docs/STACK.md).
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
# ...and QtWebEngine's Quick scene graph then needs the software renderer to draw at all.
os.environ.setdefault("QT_QUICK_BACKEND", "software")


@pytest.fixture(scope="session")
def camera_sim() -> Iterator[object]:
    """Three simulated RTSP cameras for the whole session (real GStreamer RTSP server; clips cached)."""
    from app.sim.cameras import CameraSim

    missing = [t for t in ("ffmpeg", "ffprobe") if shutil.which(t) is None]
    if missing or not Path("/usr/bin/python3").exists():
        pytest.skip(
            f"camera simulator needs {missing or '/usr/bin/python3 with python3-gi'} (packaging/setup.sh installs them)"
        )
    with CameraSim(3) as sim:
        yield sim

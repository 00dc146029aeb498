"""Helpers shared by the video tests."""

from __future__ import annotations

import pytest

# Messages Qt Multimedia prints as warnings in situations the tests create on purpose or cannot
# avoid: CPU frame conversion without OpenGL (QT_XCB_GL_INTEGRATION=none; once per thread), and the
# demuxer's complaints when a test kills the stream or a reconnect finds no server. pytest-qt reads
# only the closest qt_log_ignore mark, so they all go in one (extending the ini list).
QT_MULTIMEDIA_EXPECTED: tuple[str, ...] = (
    r"No RHI backend\. Using CPU conversion",
    r"^Demuxing failed",
    r"^Could not open media",
)
qt_multimedia_log_ignore = pytest.mark.qt_log_ignore(*QT_MULTIMEDIA_EXPECTED)

"""Test-wide setup: environment that must exist before Qt or the engine is imported."""

from __future__ import annotations

import os

# QtWebEngine refuses to run as root without this (docs/STACK.md); harmless otherwise.
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
# Under Xvfb the OpenGL path of QVideoWidget costs a core per tile (docs/STACK.md).
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
# ...and QtWebEngine's Quick scene graph then needs the software renderer to draw at all.
os.environ.setdefault("QT_QUICK_BACKEND", "software")

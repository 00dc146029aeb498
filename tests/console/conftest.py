"""Console test fixtures: a qasync loop on pytest-qt's QApplication, a real engine, and a helper to await.

QtWebEngine must be imported and the map's URL scheme registered before the QApplication exists
(pytest-qt creates it at the first test, after collection), so both happen here at import time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

from PySide6 import QtWebEngineWidgets  # noqa: F401, E402

from app.console.map.mbtiles import register_map_url_schemes  # noqa: E402

register_map_url_schemes()

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from console_support import Engine, cancel_leftover_tasks, qasync_loop  # noqa: E402

from tests.engine.conftest import start_engine  # noqa: E402

T = TypeVar("T")


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """The asyncio loop driven by the Qt event loop that pytest-qt runs (qtbot.wait*, waitSignal).

    One per session (a second qasync loop on the same QApplication never runs); tasks a test left
    behind are cancelled after it.
    """
    loop = qasync_loop(qapp)
    yield loop
    cancel_leftover_tasks(qapp, loop)


@pytest.fixture
def aw(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``aw(coro)`` runs a coroutine on the qasync loop while Qt runs, and returns its result."""

    def run(coro: Awaitable[T], timeout: int = 20_000) -> T:
        task = asyncio.ensure_future(coro, loop=qloop)
        qtbot.waitUntil(task.done, timeout=timeout)
        return task.result()

    return run


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = start_engine(tmp_path / "engine")
    yield Engine(e)
    e.close()

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

from PySide6 import QtWebEngineWidgets  # noqa: F401

from app.console.map.mbtiles import register_map_url_schemes

register_map_url_schemes()

import pytest  # noqa: E402
from console_support import Engine, cancel_leftover_tasks, qasync_loop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

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


@pytest.fixture
def console_factory(qtbot: QtBot, aw: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``console_factory(engine_url, **options)`` → a started Console; stopped after the test."""
    from console_support import make_console

    made: list[Any] = []

    def make(url: str, **options: Any) -> Any:
        c = make_console(url, tmp_path / f"settings{len(made)}", **options)
        made.append(c)
        assert aw(c.start(), timeout=30_000)
        return c

    yield make
    for c in made:
        aw(c.stop(), timeout=30_000)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The .qm files are git-ignored build products (setup makes them): build them if stale."""
    root = Path(__file__).resolve().parents[2]
    i18n = root / "resources" / "i18n"
    stale = [
        lang
        for lang in ("ko", "en")
        if not (i18n / f"goldentime_{lang}.qm").exists()
        or (i18n / f"goldentime_{lang}.qm").stat().st_mtime < (i18n / f"goldentime_{lang}.ts").stat().st_mtime
    ]
    if stale:
        import subprocess
        import sys

        subprocess.run(
            [sys.executable, str(root / "packaging" / "build_translations.py")],
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def ts_clip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.video.video_ts_server import encode_test_clip

    return encode_test_clip(tmp_path_factory.mktemp("console-video") / "clip.ts", seconds=10)


@pytest.fixture
def ts_server(ts_clip_path: Path) -> Iterator[Any]:
    """A live MPEG-TS stream on 127.0.0.1 serving any ``/<name>.ts`` (cameras without the engine's relay)."""
    from tests.video.video_ts_server import LiveTsServer

    server = LiveTsServer(ts_clip_path)
    server.start()
    yield server
    server.stop()

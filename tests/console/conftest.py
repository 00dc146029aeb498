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
import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from app.domain.enums import AgencyKind, Role  # noqa: E402
from tests.engine.conftest import AgencyKeys, EngineUnderTest, grid_cameras, start_engine  # noqa: E402

T = TypeVar("T")
OPERATOR = ("op", "correct-horse")


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop driven by the Qt event loop that pytest-qt runs (qtbot.wait*, waitSignal)."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    deadline = 200
    while any(not t.done() for t in pending) and deadline:
        qapp.processEvents()
        deadline -= 1
    qapp.aboutToQuit.disconnect(loop._after_run_forever)  # type: ignore[attr-defined]
    loop.stop()
    loop.close()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def aw(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``aw(coro)`` runs a coroutine on the qasync loop while Qt runs, and returns its result."""

    def run(coro: Awaitable[T], timeout: int = 20_000) -> T:
        task = asyncio.ensure_future(coro, loop=qloop)
        qtbot.waitUntil(task.done, timeout=timeout)
        return task.result()

    return run


class Engine:
    """A real engine with cameras, an operator and three agencies."""

    def __init__(self, e: EngineUnderTest) -> None:
        self.e = e
        self.url = e.url
        e.add_cameras(grid_cameras(6))
        e.add_user(*OPERATOR[:1], role=Role.OPERATOR, password=OPERATOR[1])
        self.police: AgencyKeys = e.add_agency("112 Police room", AgencyKind.POLICE)
        self.fire: AgencyKeys = e.add_agency("119 Fire room", AgencyKind.FIRE)
        self.disaster: AgencyKeys = e.add_agency("Disaster room", AgencyKind.DISASTER)

    def request(self, external_id: str, *, priority: int = 1, service: str = "112-emergency-video", title: str = "Assault in progress") -> dict[str, Any]:
        body = {
            "service": service,
            "external_id": external_id,
            "title": title,
            "location": {"lat": 35.18, "lon": 128.08, "address": "Jinju city hall"},
            "priority": priority,
        }
        keys = self.fire if service == "119-dispatch" else self.police
        r = self.e.http.post("/api/v1/requests", json=body, headers=keys.headers)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = start_engine(tmp_path / "engine")
    yield Engine(e)
    e.close()

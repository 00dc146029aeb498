"""Shared helpers of the console tests (imported as a plain module, like tests/video's helpers)."""

from __future__ import annotations

import asyncio
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from app.domain.enums import AgencyKind, Role
from tests.engine.conftest import AgencyKeys, EngineUnderTest, grid_cameras

OPERATOR = ("op", "correct-horse")


def qasync_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """The process's qasync loop on pytest-qt's QApplication, created once and marked running.

    Kept on the application object so that test directories importing this module under two names
    still share it (a second qasync loop on one QApplication never runs its callbacks).
    """
    loop: asyncio.AbstractEventLoop | None = getattr(app, "_gt_test_loop", None)
    if loop is None:
        loop = qasync.QEventLoop(app, already_running=True)
        app._gt_test_loop = loop  # type: ignore[attr-defined]
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    return loop


def cancel_leftover_tasks(app: QApplication, loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a test left behind, then unmark the loop as running so that other tests may use
    ``asyncio.run`` (the qasync loop stays alive for the next console test)."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    for _ in range(500):
        if all(t.done() for t in pending):
            break
        app.processEvents()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


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

    def request(
        self,
        external_id: str,
        *,
        priority: int = 1,
        service: str = "112-emergency-video",
        title: str = "Assault in progress",
    ) -> dict[str, Any]:
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


def make_console(engine_url: str, settings_dir: Any, **options: Any) -> Any:
    """A Console on pytest-qt's QApplication, logged in as the test operator unless ``options`` name another
    user (not started yet)."""
    from app.console.bootstrap import Console, ConsoleOptions

    opts = ConsoleOptions(
        engine_url,
        settings_dir=settings_dir,
        sound=False,
        language="en",
        # many consoles per test process: let the collector have them
        **{"username": OPERATOR[0], "password": OPERATOR[1], "freeze_gc": False, **options},
    )
    return Console(opts, QApplication.instance())

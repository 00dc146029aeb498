"""Consoles get deltas (issue 17): a delivery's outcome reaches the console's agency health inside the live
event itself; nothing reloads the agency list or the cameras for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console_support import Engine
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.store.models import AuditRow

TIMEOUT = 20_000


def _camera_lists(engine: Engine) -> int:
    with engine.e.server.uow.read() as s:
        return int(
            s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "camera.list")) or 0
        )


def test_delivery_outcomes_update_agency_health_without_reloading_agencies_or_cameras(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(
        lambda: c.connected and c.health.camera_count > 0 and len(c.agencies) == 3, timeout=TIMEOUT
    )
    reloads, agency_reloads, camera_lists = c.reloads, c.agency_reloads, _camera_lists(engine)
    police = engine.police.id
    assert next(s for s in c.health.agencies() if s.agency.id == police).state == "idle"

    # The police room's endpoint does not answer: each attempt is a delivery.updated with its health.
    for i in range(3):
        engine.request(f"D-{i}")

    def police_failing() -> bool:
        st = next(s for s in c.health.agencies() if s.agency.id == police)
        return st.state == "failing" and st.consecutive_failures >= 1 and st.queue_depth >= 1

    qtbot.waitUntil(police_failing, timeout=TIMEOUT)
    assert any(a.id == police and a.health and a.health.state == "failing" for a in c.agencies)
    assert any(s.agency.id == police for s in c.health.failing_agencies())
    # …applied from the events alone: no reload of anything, and no camera list asked of the engine.
    assert c.reloads == reloads
    assert c.agency_reloads == agency_reloads
    assert _camera_lists(engine) == camera_lists


def test_agency_health_pushed_on_its_own_is_applied_without_a_reload(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    from datetime import UTC, datetime

    from app.store.models import DeliveryRow, IncidentRow

    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.connected and len(c.agencies) == 3, timeout=TIMEOUT)
    reloads, agency_reloads = c.reloads, c.agency_reloads
    police = engine.police.id
    # A dead letter the dispatcher never touches again: only a pushed agency.health can tell the console.
    now = datetime.now(UTC)
    with engine.e.server.uow.writing() as s:
        s.add(
            IncidentRow(
                id="INC-H",
                service="112-dispatch",
                status="new",
                title="t",
                priority=3,
                exercise=False,
                lat=35.18,
                lon=128.08,
                source="test",
                details={},
                units=[],
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
        s.add(
            DeliveryRow(
                id="msg-H",
                agency_id=police,
                incident_id="INC-H",
                event_type="incident.updated",
                sequence=1,
                payload={},
                state="dead",
                attempts=9,
                created_at=now,
            )
        )
    engine.e.server.dispatcher._write_health({police})  # what the dispatcher pushes once a second is over
    qtbot.waitUntil(
        lambda: next(s for s in c.health.agencies() if s.agency.id == police).dead_letters == 1,
        timeout=TIMEOUT,
    )
    assert any(s.agency.id == police for s in c.health.failing_agencies())
    assert c.reloads == reloads and c.agency_reloads == agency_reloads

"""The evidence bundle from the console: a supervisor's incident detail and the ledger (supervisors and
auditors) save the signed bundle through a file dialog, without blocking the Qt thread; an operator has no
such button. The saved file verifies offline (app/engine/evidence.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from console_support import Engine
from pytestqt.qtbot import QtBot

from app.domain.enums import Role
from app.engine.evidence import verify_bundle

TIMEOUT = 30_000


def _save_through_dialog(saver: Any, qtbot: QtBot, target: Path) -> None:
    qtbot.waitUntil(lambda: saver.dialog is not None and saver.dialog.isVisible(), timeout=TIMEOUT)
    saver.dialog.selectFile(str(target))
    saver.dialog.accept()


def test_a_supervisor_saves_the_evidence_bundle_from_the_incident_detail(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, tmp_path: Path
) -> None:
    inc_id = engine.request("EV-1")["incident"]["id"]
    operator = console_factory(engine.url)
    assert operator.evidence is None and operator.detail_panel.findChild(object, "evidenceBundle") is None

    engine.e.add_user("boss", role=Role.SUPERVISOR, password="supervisor-pass")
    console = console_factory(engine.url, username="boss", password="supervisor-pass")
    button = console.detail_panel.evidence_btn
    assert not button.isEnabled()  # no incident shown yet
    qtbot.waitUntil(lambda: console.controller.queue.get(inc_id) is not None, timeout=TIMEOUT)
    console.controller.select_incident(inc_id)
    qtbot.waitUntil(button.isEnabled, timeout=TIMEOUT)
    assert button.isVisible() and button.text() == "Evidence bundle…"

    target = tmp_path / "bundle.zip"
    button.click()
    _save_through_dialog(console.evidence, qtbot, target)
    qtbot.waitUntil(target.exists, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "saved" in console.window.statusBar().currentMessage(), timeout=TIMEOUT)
    report = verify_bundle(target)
    assert report.ok, report.problems
    assert report.incident_id == inc_id


def test_an_auditor_saves_a_provisions_bundle_from_the_ledger(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, tmp_path: Path
) -> None:
    inc_id = engine.request("EV-2")["incident"]["id"]
    engine.e.add_user("aud", role=Role.AUDITOR, password="auditor-pass")
    console = console_factory(engine.url, username="aud", password="auditor-pass")
    panel = console.provision_panel
    assert panel is not None and panel.ledger is not None
    button = panel.evidence_btn
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.ledger.rowCount() >= 1, timeout=TIMEOUT)
    assert not button.isEnabled()
    panel.ledger.selectRow(0)
    assert button.isEnabled()
    target = tmp_path / "ledger-bundle.zip"
    button.click()
    _save_through_dialog(console.evidence, qtbot, target)
    qtbot.waitUntil(target.exists, timeout=TIMEOUT)
    report = verify_bundle(target)
    assert report.ok and report.incident_id == inc_id
    # The auditor's console never opened the live feed it may not have, so it never asked to log in again.
    assert console.login_dialog is None and not console.controller.feed.running

"""The provision panel: a supervisor sees shares waiting for approval with a cue, approves or rejects them
with a reason and reads the ledger; an operator sees no approvals to make (only over-cap confirmations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console_support import OPERATOR, Engine
from pytestqt.qtbot import QtBot

from app.domain.enums import Role
from app.domain.legal_basis import KOREAN_BASES

TIMEOUT = 20_000


def _pending_share(engine: Engine, inc_id: str, agency_id: str) -> str:
    op = engine.e.http.post("/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]})
    headers = {"authorization": f"Bearer {op.json()['token']}"}
    r = engine.e.http.post(
        f"/api/v1/incidents/{inc_id}/shares",
        headers=headers,
        json={
            "agency_id": agency_id,
            "camera_ids": ["CAM-0001"],
            "minutes": 10,
            "purpose": "smoke seen",
            "legal_basis": KOREAN_BASES[2].id,
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    return str(r.json()["id"])


def test_a_supervisor_approves_and_rejects_waiting_shares_and_reads_the_ledger(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    inc_id = engine.request("PV-1")["incident"]["id"]
    first = _pending_share(engine, inc_id, engine.fire.id)
    second = _pending_share(engine, inc_id, engine.disaster.id)
    operator = console_factory(engine.url)
    op_panel = operator.provision_panel
    assert op_panel is not None and not op_panel.vm.approves
    qtbot.waitUntil(lambda: op_panel.cue.text() == "Nothing waiting", timeout=TIMEOUT)
    assert op_panel.pending.rowCount() == 0 and not op_panel.reject_button.isVisible()

    engine.e.add_user("boss", role=Role.SUPERVISOR, password="supervisor-pass")
    console = console_factory(engine.url, username="boss", password="supervisor-pass")
    panel = console.provision_panel
    assert panel is not None and panel.vm.approves
    qtbot.waitUntil(lambda: panel.pending.rowCount() == 2, timeout=TIMEOUT)
    assert "2" in panel.cue.text() and "background" in panel.cue.styleSheet()
    assert console.window.docks["provision"].windowTitle().endswith("(2)")
    ids = [s.id for s in panel.vm.pending]
    qtbot.waitUntil(
        lambda: panel.pending.item(0, 1).text() in ("119 Fire room", "Disaster room"), timeout=TIMEOUT
    )
    assert set(ids) == {first, second}

    panel.pending.selectRow(ids.index(first))
    panel.approve_button.click()
    qtbot.waitUntil(lambda: panel.pending.rowCount() == 1, timeout=TIMEOUT)
    panel.pending.selectRow(0)
    panel.reject_button.click()  # no reason: refused in the panel
    assert "reason" in panel.status.text()
    panel.reason.setText("not needed")
    panel.reject_button.click()
    qtbot.waitUntil(lambda: panel.pending.rowCount() == 0, timeout=TIMEOUT)
    assert panel.cue.text() == "Nothing waiting"
    sup = engine.e.http.post("/api/v1/sessions", json={"username": "boss", "password": "supervisor-pass"})
    headers = {"authorization": f"Bearer {sup.json()['token']}"}
    detail = engine.e.http.get(f"/api/v1/incidents/{inc_id}", headers=headers).json()
    status = {s["id"]: (s["status"], s["approved_by"]) for s in detail["shares"]}
    assert status[first] == ("active", "user:boss") and status[second] == ("rejected", "user:boss")

    assert panel.ledger is not None
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.ledger.rowCount() == len(detail["shares"]), timeout=TIMEOUT)
    texts = [panel.ledger.item(r, 7).text() for r in range(panel.ledger.rowCount())]
    assert "user:boss" in texts

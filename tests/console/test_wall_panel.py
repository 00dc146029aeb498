"""The console's wall control panel against a real engine: walls listed and mirrored live, cameras dropped
on cells, grids, presets, incident takeover and release, and two consoles seeing the same walls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import OPERATOR, Engine
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from app.client import EngineClient
from app.client.live import Backoff
from app.console.camera_drag import CAMERA_MIME_TYPE
from app.console.wall.panel import WallControlPanel

TIMEOUT = 15_000


@pytest.fixture
def make_panel(
    engine: Engine, qtbot: QtBot, aw: Callable[..., Any], tmp_path: Path
) -> Iterator[Callable[..., WallControlPanel]]:
    made: list[tuple[WallControlPanel, EngineClient]] = []

    def make(name: str = "a") -> WallControlPanel:
        client = EngineClient(engine.url)
        aw(client.login(*OPERATOR))
        settings = QSettings(str(tmp_path / f"console-{name}.ini"), QSettings.Format.IniFormat)
        panel = WallControlPanel(
            client, settings, lambda cid: f"Cam {cid[-2:]}", feed_backoff=Backoff(0.2, 1.0)
        )
        panel.show()
        panel.start()
        made.append((panel, client))
        return panel

    yield make
    for panel, client in made:
        aw(panel.control.aclose())
        aw(client.aclose())
        panel.close()
        panel.deleteLater()


def engine_wall(engine: Engine, wall_id: str = "WALL-1") -> dict[str, Any]:
    token = engine.e.http.post("/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]})
    headers = {"authorization": f"Bearer {token.json()['token']}"}
    r = engine.e.http.get(f"/api/v1/walls/{wall_id}", headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def put_wall(engine: Engine, wall_id: str, body: dict[str, Any]) -> None:
    token = engine.e.http.post("/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]})
    headers = {"authorization": f"Bearer {token.json()['token']}"}
    r = engine.e.http.put(f"/api/v1/walls/{wall_id}", headers=headers, json=body)
    assert r.status_code == 200, r.text


def drop_camera(widget: Any, camera_id: str) -> None:
    """What Qt delivers when a camera from the map or the camera list is dropped on the widget."""
    mime = QMimeData()
    mime.setData(CAMERA_MIME_TYPE, camera_id.encode("utf-8"))
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    assert event.isAccepted()


def test_walls_are_listed_mirrored_and_driven_through_the_engine(
    engine: Engine, make_panel: Callable[..., WallControlPanel], qtbot: QtBot, aw: Callable[..., Any]
) -> None:
    panel = make_panel("a")
    qtbot.waitUntil(lambda: panel.control.loads >= 1, timeout=TIMEOUT)
    assert panel.model.wall_ids() == [] and panel.empty_label.isVisible()
    assert not panel.send_btn.isEnabled() and not panel.release_btn.isEnabled()

    # Another console creates a wall: it appears, mirrored in miniature.
    put_wall(
        engine, "WALL-1", {"name": "Wall one", "layout": {"grid": 4, "tiles": ["CAM-0001", None, "CAM-0003"]}}
    )
    qtbot.waitUntil(lambda: "WALL-1" in panel.cards, timeout=TIMEOUT)
    card = panel.cards["WALL-1"]
    assert [c.text() for c in card.cells] == ["Cam 01", "", "Cam 03", ""]
    assert panel.model.selected == "WALL-1" and not panel.empty_label.isVisible()

    # A camera dropped on an empty cell goes to the engine, and comes back as the wall's state.
    drop_camera(card.cells[1], "CAM-0005")
    qtbot.waitUntil(
        lambda: panel.model.walls["WALL-1"].tiles == ["CAM-0001", "CAM-0005", "CAM-0003"], timeout=TIMEOUT
    )
    assert engine_wall(engine)["tiles"] == ["CAM-0001", "CAM-0005", "CAM-0003"]
    qtbot.waitUntil(lambda: [c.text() for c in panel.cards["WALL-1"].cells][1] == "Cam 05", timeout=TIMEOUT)

    # A 3×3 grid.
    panel.grid_buttons.button(9).click()
    qtbot.waitUntil(lambda: panel.model.walls["WALL-1"].grid == 9, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(panel.cards["WALL-1"].cells) == 9, timeout=TIMEOUT)

    # Save it as a preset, change the wall, apply the preset: the wall is back.
    panel.preset_name.setText("Morning")
    panel.save_preset_btn.click()
    assert panel.preset_combo.currentText() == "Morning"
    assert "Morning" in str(panel.settings.value("wall_control/presets"))  # type: ignore[union-attr]
    panel.grid_buttons.button(1).click()
    qtbot.waitUntil(lambda: panel.model.walls["WALL-1"].grid == 1, timeout=TIMEOUT)
    panel.apply_preset_btn.click()
    qtbot.waitUntil(
        lambda: (
            panel.model.walls["WALL-1"].grid == 9
            and panel.model.walls["WALL-1"].tiles == ["CAM-0001", "CAM-0005", "CAM-0003"]
        ),
        timeout=TIMEOUT,
    )

    # An unknown camera is refused by the engine: the panel says so, the wall is unchanged.
    drop_camera(panel.cards["WALL-1"].cells[4], "NO-SUCH-CAMERA")
    qtbot.waitUntil(lambda: "NO-SUCH-CAMERA" in panel.message.text(), timeout=TIMEOUT)
    assert engine_wall(engine)["tiles"] == ["CAM-0001", "CAM-0005", "CAM-0003"]

    # "Send incident to wall" (the console's incident detail calls this), then release.
    incident = engine.request("W-1")["incident"]["id"]
    panel.set_current_incident(incident)
    assert panel.send_btn.isEnabled()
    aw(panel.send_incident("WALL-1", incident))
    w = panel.model.walls["WALL-1"]
    assert w.mode == "incident" and w.incident_id == incident and w.show_map
    assert "map" in [c.cell.kind for c in panel.cards["WALL-1"].cells]
    assert "INCIDENT" in panel.cards["WALL-1"].title.text()
    assert panel.release_btn.isEnabled()
    panel.release_btn.click()
    qtbot.waitUntil(lambda: panel.model.walls["WALL-1"].mode == "normal", timeout=TIMEOUT)
    assert panel.model.walls["WALL-1"].tiles == ["CAM-0001", "CAM-0005", "CAM-0003"]
    qtbot.waitUntil(lambda: panel.control.task_count == 0, timeout=TIMEOUT)


def test_two_consoles_see_the_same_walls(
    engine: Engine, make_panel: Callable[..., WallControlPanel], qtbot: QtBot
) -> None:
    put_wall(engine, "WALL-1", {"layout": {"grid": 4, "tiles": ["CAM-0001"]}})
    put_wall(engine, "WALL-2", {"layout": {"grid": 1, "tiles": []}})
    a, b = make_panel("a"), make_panel("b")
    for p in (a, b):
        qtbot.waitUntil(lambda p=p: p.model.wall_ids() == ["WALL-1", "WALL-2"], timeout=TIMEOUT)
    # Console A selects wall 2 by clicking its card and drops a camera on it; console B sees it at once.
    qtbot.mouseClick(a.cards["WALL-2"], Qt.MouseButton.LeftButton)
    assert a.model.selected == "WALL-2" and b.model.selected == "WALL-1"
    drop_camera(a.cards["WALL-2"].cells[0], "CAM-0007")
    qtbot.waitUntil(lambda: b.model.walls["WALL-2"].tiles == ["CAM-0007"], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: b.cards["WALL-2"].cells[0].text() == "Cam 07", timeout=TIMEOUT)
    # Console B sends an incident to wall 1 through the console's "send to the wall display" signal.
    incident = engine.request("W-2")["incident"]["id"]
    b.on_wall_requested(incident, [])
    qtbot.waitUntil(lambda: a.model.walls["WALL-1"].mode == "incident", timeout=TIMEOUT)
    assert a.release_btn.isEnabled() is False  # A has wall 2 selected, which has nothing to go back to
    qtbot.mouseClick(a.cards["WALL-1"], Qt.MouseButton.LeftButton)
    assert a.release_btn.isEnabled()
    # Selection and presets are remembered per console.
    assert a.settings is not None and a.settings.value("wall_control/selected") == "WALL-1"


def test_the_panel_docks_into_the_operator_console(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, aw: Callable[..., Any]
) -> None:
    """The console's composition root docks the panel (``install_wall_control``): camera names from the
    console, and the incident detail's "send to the wall display" putting the incident on the wall."""
    from PySide6.QtWidgets import QDockWidget

    put_wall(engine, "WALL-1", {"name": "Wall one", "layout": {"grid": 4, "tiles": ["CAM-0002"]}})
    console = console_factory(engine.url)
    c = console.controller
    panel = console.wall_control
    assert console.window.findChild(QDockWidget, "dock_wall_control") is panel
    assert panel.toggleViewAction() in console.window.view_menu.actions()
    qtbot.waitUntil(lambda: "WALL-1" in panel.cards and c.health.camera_count > 0, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.cards["WALL-1"].cells[0].text() == "Camera 2", timeout=TIMEOUT)
    incident = engine.request("W-9")["incident"]["id"]
    qtbot.waitUntil(lambda: c.queue.get(incident) is not None, timeout=TIMEOUT)
    c.select_incident(incident)
    qtbot.waitUntil(
        lambda: panel.current_incident == incident and panel.send_btn.isEnabled(), timeout=TIMEOUT
    )
    c.send_to_wall_display()  # the detail panel's "Send to wall display" button
    qtbot.waitUntil(lambda: panel.model.walls["WALL-1"].mode == "incident", timeout=TIMEOUT)
    assert engine_wall(engine)["incident_id"] == incident

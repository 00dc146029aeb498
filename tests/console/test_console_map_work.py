"""Working from the map in the real console against a real engine: draw an area and its cameras go to
the wall, the one-key jump to a new P1, and the settings dialog (basemaps, golden times) taking effect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from console_support import Engine
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot
from test_map_view import CENTER, write_mbtiles

from app.domain.enums import Service

TIMEOUT = 20_000


def map_snapshot(qtbot: QtBot, console: Any) -> dict[str, Any]:
    got: list[dict[str, Any]] = []
    console.map.snapshot(got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    return got[0]


def test_drawn_area_sends_its_cameras_to_the_wall(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: len(c.health.cameras()) == 36 and console.map.is_ready, timeout=30_000)
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["cameras"] == 36, timeout=TIMEOUT)
    # The operator draws a 160 m circle around the grid's centre (through the page, as the mouse would).
    console.map.run_js("gt.drawCircle(35.18, 128.08, 160)")
    qtbot.waitUntil(lambda: any(console.wall.vm.tiles), timeout=TIMEOUT)
    on_wall = [t for t in console.wall.vm.tiles if t]
    inside = {
        cam.id
        for cam in c.health.cameras()
        if abs(cam.lat - 35.18) * 111_320 <= 160 and abs(cam.lon - 128.08) * 91_000 <= 160
    }
    assert on_wall and set(on_wall) <= inside
    assert on_wall[0] == "CAM-0021"  # the camera at the centre comes first
    assert sorted(map_snapshot(qtbot, console)["selected"]) == sorted(on_wall)
    assert "drawn area" in console.window.statusBar().currentMessage()


def test_one_key_jump_to_a_new_p1(engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot) -> None:
    low = engine.request("LOW-1", priority=4, title="Noise complaint")["incident"]["id"]
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(low) is not None, timeout=TIMEOUT)
    console.queue_panel.select(low)
    qtbot.waitUntil(lambda: c.detail.incident_id == low, timeout=TIMEOUT)
    with qtbot.waitSignal(c.newEmergency, timeout=TIMEOUT):
        urgent = engine.request("P1-1", priority=1, title="Stabbing")["incident"]["id"]
    qtbot.waitUntil(lambda: console.queue_panel.emergency_shown, timeout=TIMEOUT)
    assert "Ctrl+J" in console.queue_panel.jump.text()
    console.window.activateWindow()
    qtbot.waitUntil(lambda: console.window.isActiveWindow(), timeout=TIMEOUT)
    qtbot.keyClick(console.queue_panel.table, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: c.detail.incident_id == urgent, timeout=TIMEOUT)
    assert console.queue_panel.selected_id() == urgent
    assert not console.queue_panel.emergency_shown
    # The banner's button does the same.
    with qtbot.waitSignal(c.newEmergency, timeout=TIMEOUT):
        second = engine.request("P1-2", priority=1, title="Fire")["incident"]["id"]
    qtbot.waitUntil(lambda: console.queue_panel.emergency_shown, timeout=TIMEOUT)
    console.queue_panel.jump.click()
    qtbot.waitUntil(lambda: c.detail.incident_id == second, timeout=TIMEOUT)


def test_settings_dialog_adds_a_basemap_and_golden_times(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, tmp_path: Path
) -> None:
    from app.console.map.basemaps import BasemapSource
    from app.console.widgets.settings_dialog import SettingsDialog

    inc = engine.request("G-1", priority=2, service="119-dispatch")["incident"]["id"]
    mb = tmp_path / "street.mbtiles"
    write_mbtiles(mb, 15, CENTER)
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(inc) is not None and console.map.is_ready, timeout=30_000)
    before = c.queue.golden_time(c.queue.get(inc)).remaining_s
    assert 200 < before <= 300  # the engine's five minutes

    console.open_settings()
    dlg = console.window.findChild(SettingsDialog)
    assert dlg is not None and dlg.isVisible()
    # A bad basemap is refused in the dialog, with a reason.
    dlg.add_basemap(BasemapSource("Broken", "xyz", url="https://tiles.example/no-template.png"))
    assert not dlg.try_accept() and "{z}" in dlg.error.text()
    dlg.basemap_list.setCurrentRow(0)
    dlg.remove_button.click()
    dlg.add_basemap(BasemapSource("Offline street", "mbtiles", path=str(mb), max_zoom=15))
    dlg.golden[Service.DISPATCH_119].setValue(20)  # minutes
    dlg.video_auto.setCurrentIndex(dlg.video_auto.findData("never"))
    assert dlg.try_accept()

    ini = QSettings(str(console.settings_dir / "console.ini"), QSettings.Format.IniFormat)
    assert "Offline street" in str(ini.value("map/basemaps"))
    assert int(ini.value("golden/119-dispatch")) == 1200 and ini.value("video/auto") == "never"
    after = c.queue.golden_time(c.queue.get(inc)).remaining_s
    assert 1100 < after <= 1200, "the queue counts down to the service's configured golden time"
    console.map.choose_basemap("Offline street")
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["tiles"]["loaded"] >= 1, timeout=TIMEOUT)
    snap = map_snapshot(qtbot, console)
    assert "Offline street" in snap["basemaps"] and snap["basemap"] == "Offline street"

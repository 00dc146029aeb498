"""Working from the map in the real console against a real engine: draw an area and its cameras go to
the wall, the one-key jump to a new P1, and the settings dialog (basemaps, golden times) taking effect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
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


def test_drawn_area_goes_to_a_chosen_wall_display(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    """The operator chooses one of the engine's walls in the Video walls panel ("Drawn area to:"); the area's
    cameras then make that wall's layout on the engine (nearest the centre first), not the console's wall."""
    from test_wall_panel import engine_wall, put_wall

    put_wall(engine, "WALL-1", {"name": "Main wall", "layout": {"grid": 4, "tiles": ["CAM-0001"]}})
    console = console_factory(engine.url)
    c = console.controller
    panel = console.wall_control
    qtbot.waitUntil(lambda: len(c.health.cameras()) == 36 and console.map.is_ready, timeout=30_000)
    qtbot.waitUntil(lambda: panel.model.wall_ids() == ["WALL-1"], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["cameras"] == 36, timeout=TIMEOUT)
    combo = panel.area_target_combo
    assert combo.count() == 2 and combo.currentData() == ""  # the console's own wall until chosen
    combo.setCurrentIndex(combo.findData("WALL-1"))
    combo.activated.emit(combo.currentIndex())  # what a click on the item does
    assert panel.area_target == "WALL-1"
    assert console.settings.value("wall_control/area_target") == "WALL-1"
    console.map.run_js("gt.drawCircle(35.18, 128.08, 160)")
    qtbot.waitUntil(lambda: panel.model.walls["WALL-1"].tiles[:1] == ["CAM-0021"], timeout=TIMEOUT)
    inside = {
        cam.id
        for cam in c.health.cameras()
        if abs(cam.lat - 35.18) * 111_320 <= 160 and abs(cam.lon - 128.08) * 91_000 <= 160
    }
    on_engine = engine_wall(engine, "WALL-1")
    tiles = [t for t in on_engine["tiles"] if t]
    assert tiles[0] == "CAM-0021" and set(tiles) <= inside and len(tiles) >= 2
    assert "CAM-0001" not in tiles and on_engine["grid"] >= len(tiles)
    assert not any(console.wall.vm.tiles), "the console's own video wall is left as it was"
    qtbot.waitUntil(lambda: "Main wall" in console.window.statusBar().currentMessage(), timeout=TIMEOUT)
    # Back to the console's own wall: the next area goes there.
    combo.setCurrentIndex(combo.findData(""))
    combo.activated.emit(combo.currentIndex())
    assert panel.area_target is None
    console.map.run_js("gt.drawCircle(35.18, 128.08, 160)")
    qtbot.waitUntil(lambda: any(console.wall.vm.tiles), timeout=TIMEOUT)


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
    dlg.add_basemap(BasemapSource("Offline copy", "mbtiles", path=str(mb), max_zoom=15))
    dlg.golden[Service.DISPATCH_119].setValue(20)  # minutes
    dlg.video_auto.setCurrentIndex(dlg.video_auto.findData("never"))
    assert dlg.try_accept()

    ini = QSettings(str(console.settings_dir / "console.ini"), QSettings.Format.IniFormat)
    assert "Offline street" in str(ini.value("map/basemaps"))
    assert int(ini.value("golden/119-dispatch")) == 1200 and ini.value("video/auto") == "never"
    after = c.queue.golden_time(c.queue.get(inc)).remaining_s
    assert 1100 < after <= 1200, "the queue counts down to the service's configured golden time"
    qtbot.waitUntil(
        lambda: map_snapshot(qtbot, console)["basemaps"] == ["Offline street", "Offline copy"],
        timeout=TIMEOUT,
    )
    # The operator picks it in the map's layer control (a real radio button); the choice is remembered.
    with qtbot.waitSignal(console.map.basemapChosen, timeout=TIMEOUT):
        console.map.run_js(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            ".filter(l => l.textContent.trim() === 'Offline copy')[0].querySelector('input').click()"
        )
    qtbot.waitUntil(
        lambda: map_snapshot(qtbot, console)["tiles"]["byName"].get("Offline copy", {}).get("loaded", 0) >= 1,
        timeout=TIMEOUT,
    )
    assert map_snapshot(qtbot, console)["basemap"] == "Offline copy"
    console.settings.sync()
    ini = QSettings(str(console.settings_dir / "console.ini"), QSettings.Format.IniFormat)
    assert ini.value("map/basemap") == "Offline copy"


def test_console_draws_the_engines_districts(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    """``GET /api/v1/districts``: the engine's districts (imported from a file) are drawn and named."""
    import json

    from app.domain.districts import parse_district_geojson
    from app.engine.services.districts import store_districts
    from tests.engine.conftest import ADMIN

    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f"48170{k:05d}", "name": name},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [128.07 + 0.01 * k, 35.17],
                            [128.08 + 0.01 * k, 35.17],
                            [128.08 + 0.01 * k, 35.19],
                            [128.07 + 0.01 * k, 35.19],
                            [128.07 + 0.01 * k, 35.17],
                        ]
                    ],
                },
            }
            for k, name in enumerate(["중앙동", "상봉동", "칠암동"])
        ],
    }
    parsed = parse_district_geojson(json.dumps(fc))
    with engine.e.server.uow(ADMIN) as work:
        assert store_districts(work.session, parsed.districts, work.now, source="test") == 3
    console = console_factory(engine.url)
    qtbot.waitUntil(lambda: console.map.is_ready, timeout=30_000)
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["districts"] == 3, timeout=TIMEOUT)
    labels: list[Any] = []
    console.map.run_js(
        "JSON.stringify(Array.from(document.querySelectorAll('.gt-district-label')).map(e => e.textContent))",
        labels.append,
    )
    qtbot.waitUntil(lambda: bool(labels), timeout=TIMEOUT)
    assert sorted(json.loads(labels[0])) == sorted(["중앙동", "상봉동", "칠암동"])


def test_units_the_agency_sends_appear_on_the_map(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    inc_id = engine.request("UNITS-1", priority=2)["incident"]["id"]
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(inc_id) is not None and console.map.is_ready, timeout=30_000)
    console.queue_panel.select(inc_id)
    qtbot.waitUntil(lambda: c.detail.incident_id == inc_id, timeout=TIMEOUT)
    assert map_snapshot(qtbot, console)["units"] == 0
    # The police room sends its patrol cars' positions while the operator has the incident open.
    r = engine.e.http.post(
        f"/api/v1/incidents/{inc_id}/units",
        headers=engine.police.headers,
        json={"units": [{"id": "PATROL-12", "kind": "patrol car", "lat": 35.181, "lon": 128.081}]},
    )
    assert r.status_code == 200, r.text
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["units"] == 1, timeout=TIMEOUT)
    got: list[Any] = []
    console.map.run_js("document.querySelector('[data-unit-id]').textContent", got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    assert got == ["PATROL-12"]


def test_history_view_searches_closed_incidents_read_only(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    from app.domain.enums import Role

    closed = engine.request("HIST-1", priority=3, title="Shoplifting at the market")["incident"]["id"]
    other = engine.request("HIST-2", priority=3, title="Loud music")["incident"]["id"]
    for ext in ("HIST-1", "HIST-2"):
        r = engine.e.http.post(
            f"/api/v1/requests/{ext}/updates", headers=engine.police.headers, json={"closed": True}
        )
        assert r.status_code == 200, r.text
    engine.request("OPEN-1", priority=3, title="Shoplifting, still open")
    console = console_factory(engine.url)
    panel = console.history_panel
    assert panel is not None
    qtbot.waitUntil(lambda: console.controller.connected, timeout=TIMEOUT)
    panel.text.setText("shoplifting")
    panel.search_button.click()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=TIMEOUT)
    assert panel.table.item(0, 4).text() == "Shoplifting at the market"
    assert panel.vm.rows[0].id == closed and other not in [i.id for i in panel.vm.rows]
    assert "1 closed incident" in panel.status.text()
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: bool(panel.timeline.toPlainText()), timeout=TIMEOUT)
    assert "request" in panel.timeline.toPlainText()  # its timeline, from the received request on
    assert panel.timeline.isReadOnly()
    # Audited: the search and the opened incident.
    boss = engine.e.add_user("boss2", role=Role.SUPERVISOR)
    rows = engine.e.http.get("/api/v1/audit", headers=boss, params={"actor": "user:op"}).json()
    actions = {r["action"] for r in rows}
    assert "incident.history" in actions
    assert any(r["action"] == "incident.read" and r["target_id"] == closed for r in rows)


def test_history_searches_a_place_circle_around_the_incident_or_the_map(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    """``near=lat,lon,radius_m`` from the panel: around the selected incident, or around the map's centre."""
    for ext, lat, lon in (("NEAR-1", 35.1805, 128.0805), ("FAR-1", 35.2000, 128.1200)):
        body = {
            "service": "112-emergency-video",
            "external_id": ext,
            "title": f"Closed {ext}",
            "location": {"lat": lat, "lon": lon, "address": "somewhere"},
            "priority": 3,
        }
        r = engine.e.http.post("/api/v1/requests", json=body, headers=engine.police.headers)
        assert r.status_code == 201, r.text
        r = engine.e.http.post(
            f"/api/v1/requests/{ext}/updates", headers=engine.police.headers, json={"closed": True}
        )
        assert r.status_code == 200, r.text
    open_id = engine.request("OPEN-NEAR", priority=3)["incident"]["id"]  # at 35.18, 128.08
    console = console_factory(engine.url)
    c = console.controller
    panel = console.history_panel
    qtbot.waitUntil(lambda: c.queue.get(open_id) is not None and console.map.is_ready, timeout=30_000)

    def search() -> list[str]:
        before = panel.vm.query
        panel.search_button.click()
        qtbot.waitUntil(lambda: panel.vm.query is not before, timeout=TIMEOUT)
        return sorted(i.title for i in panel.vm.rows)

    assert search() == ["Closed FAR-1", "Closed NEAR-1"]  # anywhere
    panel.near_from.setCurrentIndex(panel.near_from.findData("incident"))
    assert panel.radius.isEnabled()
    panel.radius.setValue(500)
    # No incident selected yet: the panel says what to do, and searches nothing.
    before = panel.vm.query
    panel.search_button.click()
    qtbot.waitUntil(lambda: "Select an incident" in panel.status.text(), timeout=TIMEOUT)
    assert panel.vm.query is before
    console.queue_panel.select(open_id)
    qtbot.waitUntil(lambda: c.detail.incident_id == open_id and c.detail.detail is not None, timeout=TIMEOUT)
    assert search() == ["Closed NEAR-1"]
    assert panel.vm.query is not None and panel.vm.query.params(datetime.now(UTC))["near"].endswith(",500")
    # Around the map's centre, after the operator moved the map to the far one.
    console.map.fly_to(35.2000, 128.1200, 15)
    qtbot.waitUntil(lambda: abs(map_snapshot(qtbot, console)["center"][0] - 35.2) < 1e-3, timeout=TIMEOUT)
    panel.near_from.setCurrentIndex(panel.near_from.findData("map"))
    assert search() == ["Closed FAR-1"]
    assert panel.status.text() == "1 closed incident"
    console.set_language("ko")  # the result's count follows the language
    qtbot.waitUntil(lambda: "closed incident" not in panel.status.text(), timeout=TIMEOUT)
    assert "1" in panel.status.text()
    # The engine audited the circle search like any other.
    from app.domain.enums import Role

    boss = engine.e.add_user("boss3", role=Role.SUPERVISOR)
    rows = engine.e.http.get("/api/v1/audit", headers=boss, params={"actor": "user:op"}).json()
    assert sum(r["action"] == "incident.history" for r in rows) >= 3


def test_119_facilities_with_access_notes_on_the_map(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    """A 119 dispatch brings the facilities near it (engine side); the console draws them with their notes."""
    from app.domain.enums import FacilityKind
    from app.domain.layers import Facility
    from app.engine.services.directory import upsert_facilities
    from tests.engine.conftest import ADMIN

    with engine.e.server.uow(ADMIN) as work:
        upsert_facilities(
            work,
            [
                Facility(
                    "FAC-LPG",
                    "하대 LPG 충전소",
                    35.1805,
                    128.0805,
                    FacilityKind.HAZARDOUS,
                    "북문 진입, 지하 탱크",
                ),
                Facility("FAC-HYD", "소화전 7", 35.1795, 128.0795, FacilityKind.HYDRANT, "골목 안쪽"),
            ],
        )
    inc_id = engine.request("FIRE-1", priority=2, service="119-dispatch", title="Fire")["incident"]["id"]
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(inc_id) is not None and console.map.is_ready, timeout=30_000)
    console.queue_panel.select(inc_id)
    qtbot.waitUntil(lambda: c.detail.incident_id == inc_id, timeout=TIMEOUT)
    assert {f.id for f in c.detail.detail.facilities} >= {"FAC-LPG"}
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["facilities"] >= 1, timeout=TIMEOUT)
    got: list[Any] = []
    console.map.run_js(
        "JSON.stringify(Array.from(document.querySelectorAll('[data-facility-id]')).map(e => e.dataset.facilityId))",
        got.append,
    )
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    import json

    assert "FAC-LPG" in json.loads(got[0])
    tip: list[Any] = []
    console.map.run_js(
        "(function () { var out = ''; gt.debug.map().eachLayer(function (l) {"
        " if (l.getTooltip && l.getTooltip() && String(l.getTooltip().getContent()).indexOf('LPG') >= 0)"
        " out = l.getTooltip().getContent(); }); return out; })()",
        tip.append,
    )
    qtbot.waitUntil(lambda: bool(tip), timeout=TIMEOUT)
    assert "북문 진입, 지하 탱크" in tip[0]  # the access notes, in the tooltip
    # Selecting another incident clears them (they belong to the selected one).
    other = engine.request("OTHER-1", priority=3)["incident"]["id"]
    qtbot.waitUntil(lambda: c.queue.get(other) is not None, timeout=TIMEOUT)
    console.queue_panel.select(other)
    qtbot.waitUntil(lambda: c.detail.incident_id == other, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["facilities"] == 0, timeout=TIMEOUT)


def test_sos_track_with_times_on_the_map(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    """The SOS person's moves (the device's location updates) are drawn as a track, each fix with its time."""
    import json

    from app.domain.enums import AgencyKind
    from tests.engine.conftest import request_body

    sos = engine.e.add_agency("Safe-return centre", AgencyKind.VULNERABLE)
    r = engine.e.http.post(
        "/api/v1/requests", headers=sos.headers, json=request_body("SOS-1", "vulnerable-sos", priority=1)
    )
    assert r.status_code == 201, r.text
    inc_id = r.json()["incident"]["id"]
    for k in range(1, 3):
        r = engine.e.http.post(
            "/api/v1/requests/SOS-1/updates",
            headers=sos.headers,
            json={"location": {"lat": 35.18 + 0.0005 * k, "lon": 128.08}},
        )
        assert r.status_code == 200, r.text
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(inc_id) is not None and console.map.is_ready, timeout=30_000)
    console.queue_panel.select(inc_id)
    qtbot.waitUntil(
        lambda: c.detail.incident_id == inc_id and len(c.detail.detail.track) >= 2, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: map_snapshot(qtbot, console)["tracks"] >= 1, timeout=TIMEOUT)
    newest = c.detail.detail.track[-1].at.astimezone().strftime("%H:%M:%S")

    def labels() -> list[str]:
        got: list[Any] = []
        console.map.run_js(
            "JSON.stringify(Array.from(document.querySelectorAll('.gt-track-time')).map(e => e.textContent))",
            got.append,
        )
        qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
        return list(json.loads(got[0]))

    # The newest fix is labelled with its time (a redraw's old labels fade out over 200 ms).
    qtbot.waitUntil(lambda: labels() == [newest], timeout=TIMEOUT)

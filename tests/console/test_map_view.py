"""The map view in a real QWebEngineView (pytest-qt under Xvfb): bridge both ways, tiles, drawing."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
# tests/conftest.py sets QT_XCB_GL_INTEGRATION=none (cheap video tiles); without a GL integration the
# QWebEngineView's Qt Quick delegate has no RHI and renders nothing unless Qt Quick uses its software
# backend. Harmless for widgets that do not use Qt Quick.
os.environ.setdefault("QT_QUICK_BACKEND", "software")

# Both before pytest-qt creates the QApplication (at the first test, after collection).
from PySide6 import QtWebEngineWidgets  # noqa: F401

from app.console.map.mbtiles import register_map_url_schemes

register_map_url_schemes()

import pytest  # noqa: E402
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from app.console.map.page import BasemapConfig, build_map_page  # noqa: E402
from app.console.map.widget import MapView  # noqa: E402

# With QT_XCB_GL_INTEGRATION=none (tests/conftest.py) Qt warns once per GL probe; not our problem to fail on.
pytestmark = pytest.mark.qt_log_ignore(
    r"^QXcbIntegration: Cannot create platform (OpenGL context|offscreen surface)", extend=True
)

CENTER = (35.18, 128.08)
SERVICES = ["112-emergency-video", "112-dispatch", "119-dispatch", "disaster-response", "vulnerable-sos"]
PURPOSES = ["crime", "traffic", "disaster", "child-protection", "other"]
TIMEOUT = 30_000


def make_cameras(n: int) -> list[dict[str, Any]]:
    side = math.ceil(math.sqrt(n))
    return [
        {
            "id": f"CAM-{k:04d}",
            "name": f"진주 {k:04d}",
            "lat": CENTER[0] + (k // side - side / 2) * 0.0015,
            "lon": CENTER[1] + (k % side - side / 2) * 0.0018,
            "purpose": PURPOSES[k % len(PURPOSES)],
            "state": "offline" if k % 50 == 0 else "online",
            "direction_deg": float(k * 37 % 360),
            "fov_deg": 70.0,
        }
        for k in range(n)
    ]


def incident(i: int = 1, service: str = "vulnerable-sos", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"INC-{i}",
        "service": service,
        "lat": CENTER[0] + 0.002 * i,
        "lon": CENTER[1] - 0.002 * i,
        "title": f"<b>incident</b> {i}",
        "priority": 1,
        "status": "new",
        "drill": False,
        **extra,
    }


def _tile_xy(lat: float, lon: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def write_mbtiles(path: Path, z: int, around: tuple[float, float], radius: int = 3) -> int:
    """A tiny MBTiles file: red 256×256 PNG tiles around ``around`` at zoom ``z`` (TMS rows)."""
    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor("#c8102e"))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert img.save(buf, "PNG")
    png = bytes(buf.data().data())
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
        "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
    )
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [
            ("name", "test"),
            ("format", "png"),
            ("minzoom", str(z)),
            ("maxzoom", str(z)),
            ("attribution", "test"),
        ],
    )
    cx, cy = _tile_xy(*around, z)
    rows = [
        (z, x, (1 << z) - 1 - y, png)
        for x in range(cx - radius, cx + radius + 1)
        for y in range(cy - radius, cy + radius + 1)
    ]
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return len(rows)


@pytest.fixture
def make_view(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[..., MapView]]:
    def make(
        basemap: BasemapConfig | None = None,
        *,
        wait: bool = True,
        cameras: list[dict[str, Any]] | None = None,
        districts: dict[str, Any] | None = None,
        streets: dict[str, Any] | None = None,
    ) -> MapView:
        bm = basemap or BasemapConfig.none()
        page = build_map_page(tmp_path / "page", CENTER, 14, districts, [], bm, streets_geojson=streets)
        view = MapView(page, bm, start_drags=False)
        qtbot.addWidget(view)
        view.resize(1000, 700)
        view.show()
        if cameras is not None:
            view.set_cameras(cameras)  # before ready: must be sent once the page is up
        if wait:
            qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
        return view

    yield make


def snapshot(qtbot: QtBot, view: MapView) -> dict[str, Any]:
    box: dict[str, Any] = {}
    view.snapshot(lambda d: box.update(d=d))
    qtbot.waitUntil(lambda: "d" in box, timeout=TIMEOUT)
    return box["d"]  # type: ignore[no-any-return]


def js(qtbot: QtBot, view: MapView, script: str) -> Any:
    box: dict[str, Any] = {}
    view.run_js(f"JSON.stringify({script})", lambda r: box.update(r=r))
    qtbot.waitUntil(lambda: "r" in box, timeout=TIMEOUT)
    return json.loads(box["r"]) if box["r"] else None


def test_ready_cameras_and_incidents(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(300))
    assert view.is_ready
    for k, svc in enumerate(SERVICES, start=1):
        view.upsert_incident(incident(k, svc, drill=k == 3))
    view.set_alert_area("INC-2", {"circle": {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 500}})
    view.set_track("INC-5", [[CENTER[0] + 0.001 * k, CENTER[1]] for k in range(6)])
    snap = snapshot(qtbot, view)
    assert snap["ready"] is True
    assert snap["cameras"] == 300
    assert snap["camerasOffline"] == 6
    assert snap["clusteredMarkers"] == 300
    assert snap["visibleClusters"] > 0, "300 cameras at zoom 14 should cluster"
    assert sorted(snap["incidents"]) == [f"INC-{k}" for k in range(1, 6)]
    assert snap["areas"] == 1 and snap["tracks"] == 1
    assert snap["wedgesShown"] is False
    assert snap["labelsDrill"] == "DRILL"  # labels came from Python
    # One distinct icon per service; the drill is marked.
    icons = js(
        qtbot,
        view,
        "Array.from(document.querySelectorAll('.gt-inc')).map(e => e.style.getPropertyValue('--c'))",
    )
    assert len(icons) == 5 and len(set(icons)) == 5
    assert js(qtbot, view, "document.querySelectorAll('.gt-inc-drill .gt-inc-drill-badge').length") == 1
    # User text is escaped, never markup.
    assert js(qtbot, view, "document.querySelectorAll('.leaflet-tooltip b b').length") == 0

    view.remove_incident("INC-1")
    view.set_camera_state("CAM-0001", "offline")
    view.select_cameras(["CAM-0002", "CAM-0003", "nope"])
    snap = snapshot(qtbot, view)
    assert "INC-1" not in snap["incidents"]
    assert snap["camerasOffline"] == 7
    assert snap["selected"] == ["CAM-0002", "CAM-0003"]
    assert snap["clusteredMarkers"] == 298, "selected cameras leave the clusters"

    view.set_labels({"drill": "훈련"})
    assert snapshot(qtbot, view)["labelsDrill"] == "훈련"
    assert js(qtbot, view, "document.querySelector('.gt-inc-drill-badge').textContent") == "훈련"


def test_wedges_only_when_zoomed_in(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(40))
    view.run_js("gt.debug.map().setView([35.18, 128.08], 16, {animate: false})")
    qtbot.waitUntil(lambda: snapshot(qtbot, view)["wedgesShown"] is True, timeout=TIMEOUT)
    snap = snapshot(qtbot, view)
    assert snap["wedges"] == 40 and snap["zoom"] == 16
    view.fly_to(35.18, 128.08, 13)
    qtbot.waitUntil(lambda: snapshot(qtbot, view)["zoom"] == 13, timeout=TIMEOUT)
    assert snapshot(qtbot, view)["wedgesShown"] is False


def test_marker_clicks_reach_python(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(300))
    view.upsert_incident(incident(7, "119-dispatch"))
    with qtbot.waitSignal(view.cameraClicked, timeout=TIMEOUT) as blocker:
        view.run_js("gt.debug.cameraMarker('CAM-0042').fire('click')")
    assert blocker.args == ["CAM-0042"]
    with qtbot.waitSignal(view.incidentClicked, timeout=TIMEOUT) as blocker:
        view.run_js("gt.debug.incidentMarker('INC-7').fire('click')")
    assert blocker.args == ["INC-7"]

    # A real mouse click on a camera icon (selected, so it is outside the clusters).
    view.select_cameras(["CAM-0100"])
    rect = js(
        qtbot,
        view,
        """(function () { var r = document.querySelector('.gt-cam[data-cam-id="CAM-0100"]')
            .getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()""",
    )
    target = view.web_view.focusProxy()
    pos = QPointF(rect[0], rect[1])
    with qtbot.waitSignal(view.cameraClicked, timeout=TIMEOUT) as blocker:
        _mouse(target, QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton)
        _mouse(target, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
    assert blocker.args == ["CAM-0100"]


def test_dragging_a_camera_marker_is_reported(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(30))
    view.select_cameras(["CAM-0005"])  # selected: outside the clusters, so its icon is in the DOM
    snapshot(qtbot, view)
    script = """
        (function () {
          var el = document.querySelector('.gt-cam[data-cam-id="CAM-0005"]');
          var r = el.getBoundingClientRect(), x = r.left + 5, y = r.top + 5;
          var o = {bubbles: true, cancelable: true, button: 0, clientX: x, clientY: y};
          el.dispatchEvent(new MouseEvent('mousedown', o));
          document.dispatchEvent(new MouseEvent('mousemove', Object.assign({}, o, {clientX: x + 30})));
          document.dispatchEvent(new MouseEvent('mouseup', o));
        })()
    """
    with qtbot.waitSignal(view.cameraDragStarted, timeout=TIMEOUT) as blocker:
        view.run_js(script)
    assert blocker.args == ["CAM-0005"]


def test_drawn_circle_and_polygon_reach_python(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(10))
    with qtbot.waitSignal(view.areaDrawn, timeout=TIMEOUT) as blocker:
        view.run_js("gt.drawCircle(35.18, 128.08, 250)")
    assert blocker.args == [{"circle": {"lat": 35.18, "lon": 128.08, "radius_m": 250.0}}]
    poly = [[35.18, 128.08], [35.19, 128.08], [35.19, 128.09]]
    with qtbot.waitSignal(view.areaDrawn, timeout=TIMEOUT) as blocker:
        view.run_js(f"gt.drawPolygon({json.dumps(poly)})")
    assert blocker.args == [{"polygon": poly}]
    assert snapshot(qtbot, view)["drawn"] == 2


def _mouse(target: Any, kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    ev = QMouseEvent(kind, pos, target.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, ev)


def test_operator_draws_a_circle_with_the_mouse(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view(cameras=make_cameras(10))
    view.start_drawing("circle")
    qtbot.waitUntil(lambda: snapshot(qtbot, view)["drawMode"] == "circle", timeout=TIMEOUT)
    target = view.web_view.focusProxy()
    assert target is not None
    centre = QPointF(500, 350)
    with qtbot.waitSignal(view.areaDrawn, timeout=TIMEOUT) as blocker:
        _mouse(target, QEvent.Type.MouseButtonPress, centre, Qt.MouseButton.LeftButton)
        for dx in (20, 60, 100):
            qtbot.wait(30)
            _mouse(target, QEvent.Type.MouseMove, centre + QPointF(dx, 0), Qt.MouseButton.LeftButton)
        qtbot.wait(30)
        _mouse(target, QEvent.Type.MouseButtonRelease, centre + QPointF(100, 0), Qt.MouseButton.NoButton)
    circle = blocker.args[0]["circle"]
    assert abs(circle["lat"] - CENTER[0]) < 0.002 and abs(circle["lon"] - CENTER[1]) < 0.002
    # 100 px at zoom 14 and 35°N: about 100 × 9.55 × cos(35°) ≈ 780 m
    assert 600 < circle["radius_m"] < 950
    assert snapshot(qtbot, view)["drawMode"] is None


def test_no_basemap_notice_and_console_notice(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view()
    assert "No basemap configured" in snapshot(qtbot, view)["notice"]
    view.show_notice("Engine connection lost")
    assert "Engine connection lost" in snapshot(qtbot, view)["notice"]
    view.hide_notice()
    notice = snapshot(qtbot, view)["notice"]
    assert "Engine connection lost" not in notice and "No basemap" in notice


def test_page_cannot_navigate_away(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    view = make_view()
    url = view.web_view.url()
    view.run_js("window.location.href = 'https://example.org/'")
    qtbot.wait(300)
    assert view.web_view.url() == url
    assert snapshot(qtbot, view)["ready"] is True


def test_mbtiles_basemap_serves_tiles(
    qtbot: QtBot, make_view: Callable[..., MapView], tmp_path: Path
) -> None:
    mb = tmp_path / "city.mbtiles"
    assert write_mbtiles(mb, 14, CENTER) == 49
    view = make_view(BasemapConfig.mbtiles(mb))
    handler = view.tile_handler
    assert handler is not None
    qtbot.waitUntil(lambda: snapshot(qtbot, view)["tiles"]["loaded"] >= 4, timeout=TIMEOUT)
    assert handler.served >= 4
    assert "No basemap" not in snapshot(qtbot, view)["notice"]
    # The tile really is the red PNG from the file (y flipped from TMS).
    x, y = _tile_xy(*CENTER, 14)
    size = js(
        qtbot,
        view,
        f"Array.from(document.querySelectorAll('img.leaflet-tile')).filter(i => i.src.endsWith('/14/{x}/{y}'))"
        ".map(i => [i.complete, i.naturalWidth])",
    )
    assert size == [[True, 256]]


def test_tile_handler_direct(qtbot: QtBot, tmp_path: Path) -> None:
    from app.console.map.mbtiles import MbtilesSource

    mb = tmp_path / "t.mbtiles"
    write_mbtiles(mb, 3, (0.0, 0.0), radius=0)
    src = MbtilesSource(mb)
    x, y = _tile_xy(0.0, 0.0, 3)
    data = src.tile(3, x, y)
    assert data is not None and data.startswith(b"\x89PNG")
    assert QImage.fromData(QByteArray(data)).size().width() == 256
    assert src.tile(3, x, (1 << 3) - 1 - y) is None or (1 << 3) - 1 - y == y
    assert src.tile(3, 99, 0) is None
    src.close()


def test_unreachable_xyz_basemap_shows_notice(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    # A port on loopback that nobody listens on: tiles fail fast, as on an air-gapped network.
    view = make_view(BasemapConfig.xyz("http://127.0.0.1:9/{z}/{x}/{y}.png", "none"))
    qtbot.waitUntil(lambda: "Basemap unreachable" in snapshot(qtbot, view)["notice"], timeout=TIMEOUT)


def test_camera_drag_starts_a_qt_drag(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QDrag

    from app.console.map import widget as map_widget

    page = build_map_page(tmp_path / "page", CENTER, 14, None, [], BasemapConfig.none())
    view = MapView(page, BasemapConfig.none(), start_drags=True)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_cameras(make_cameras(30))
    view.select_cameras(["CAM-0005"])
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
    snapshot(qtbot, view)
    seen: list[bytes] = []
    real_exec = QDrag.exec

    def exec_then_cancel(drag: QDrag, *args: Any) -> Qt.DropAction:
        seen.append(bytes(drag.mimeData().data(map_widget.CAMERA_MIME_TYPE).data()))
        QTimer.singleShot(200, QDrag.cancel)
        return real_exec(drag, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QDrag, "exec", exec_then_cancel)
        view.run_js(
            """(function () {
              var el = document.querySelector('.gt-cam[data-cam-id="CAM-0005"]');
              var r = el.getBoundingClientRect(), x = r.left + 5, y = r.top + 5;
              var o = {bubbles: true, cancelable: true, button: 0, clientX: x, clientY: y};
              el.dispatchEvent(new MouseEvent('mousedown', o));
              document.dispatchEvent(new MouseEvent('mousemove', Object.assign({}, o, {clientX: x + 30})));
            })()"""
        )
        qtbot.waitUntil(lambda: bool(seen), timeout=TIMEOUT)
        qtbot.wait(500)
    assert seen == [b"CAM-0005"]
    assert snapshot(qtbot, view)["ready"] is True


def test_approximate_cameras_are_drawn_apart(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    cams = make_cameras(20)
    for c in cams[:5]:
        c["approximate"] = True
    view = make_view(cameras=cams)
    icon = "gt.debug.cameraMarker('{}').options.icon.options.html"
    tip = "gt.debug.cameraMarker('{}').getTooltip().getContent()"
    assert "gt-cam-approx" in js(qtbot, view, icon.format("CAM-0001"))
    assert "gt-cam-approx" not in js(qtbot, view, icon.format("CAM-0010"))
    assert "approximate position" in js(qtbot, view, tip.format("CAM-0001"))
    assert "approximate position" not in js(qtbot, view, tip.format("CAM-0010"))
    # Drawn on the page (a selected camera leaves the clusters): hollow with a dashed border.
    view.select_cameras(["CAM-0001"])
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('.gt-cam-approx').length") == 1, timeout=TIMEOUT
    )
    style = js(qtbot, view, "getComputedStyle(document.querySelector('.gt-cam-approx')).borderTopStyle")
    assert style == "dashed"


def test_demo_city_basemap_and_districts_are_drawn(
    qtbot: QtBot, make_view: Callable[..., MapView], tmp_path: Path
) -> None:
    """The simulated city's streets, river and districts are on the live page, named, dark, with no notice."""
    from app.sim.city import generate_city

    files = generate_city(tmp_path / "city")
    streets = json.loads(files.streets_geojson.read_text(encoding="utf-8"))
    districts = json.loads(files.districts_geojson.read_text(encoding="utf-8"))
    view = make_view(districts=districts, streets=streets)
    drawn = js(
        qtbot,
        view,
        "{dark: document.querySelector('.leaflet-container').classList.contains('gt-city-basemap'), "
        "streets: document.querySelectorAll('path.leaflet-interactive').length, "
        "labels: Array.from(document.querySelectorAll('.gt-street-label, .gt-district-label'))"
        ".map(function (e) { return e.textContent; })}",
    )
    assert drawn["dark"]
    assert drawn["streets"] >= len(streets["features"]) + len(districts["features"])
    for f in streets["features"]:
        if f["properties"]["kind"] in ("main", "river"):
            assert f["properties"]["name"] in drawn["labels"]
    for f in districts["features"]:
        assert f["properties"]["name"] in drawn["labels"]
    assert "No basemap" not in snapshot(qtbot, view)["notice"]

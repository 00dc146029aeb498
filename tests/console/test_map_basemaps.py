"""Basemaps an operator can pick, in a real QWebEngineView under Xvfb: every source kind loads a tile.

XYZ, WMTS and WMS come from a tile server on 127.0.0.1 started here (it records each request and answers
with a PNG); MBTiles and PMTiles files are written by the test and served by the console itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import test_map_view
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot
from test_map_view import (
    CENTER,
    TIMEOUT,
    _tile_xy,
    js,
    snapshot,
    write_mbtiles,
)

from app.console.map.basemaps import (
    BasemapSource,
    basemaps_from_json,
    basemaps_to_json,
    legacy_basemaps,
    page_layers,
)
from app.console.map.widget import MapView

pytestmark = pytest.mark.qt_log_ignore(
    r"^QXcbIntegration: Cannot create platform (OpenGL context|offscreen surface)", extend=True
)


def png(color: str) -> bytes:
    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor(color))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert img.save(buf, "PNG")
    return bytes(buf.data().data())


class TileServer:
    """A tile server on 127.0.0.1: answers every GET with a PNG and records the request's path and query."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.tile = png("#1b5e20")
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(server.tile)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(server.tile)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the browser cancels tiles it no longer needs (broken pipes)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


make_view = test_map_view.make_view  # the map view fixture, shared


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    srv = TileServer()
    yield srv
    srv.close()


def rendered_tiles(qtbot: QtBot, view: MapView, needle: str) -> list[list[Any]]:
    """[complete, naturalWidth] of every tile image on the page whose URL contains ``needle``."""
    return js(  # type: ignore[no-any-return]
        qtbot,
        view,
        "Array.from(document.querySelectorAll('img.leaflet-tile'))"
        f".filter(i => i.src.indexOf({needle!r}) >= 0).map(i => [i.complete, i.naturalWidth])",
    )


def wait_rendered(qtbot: QtBot, view: MapView, needle: str) -> None:
    qtbot.waitUntil(
        lambda: any(ok and w == 256 for ok, w in rendered_tiles(qtbot, view, needle)), timeout=TIMEOUT
    )


# ---- pure --------------------------------------------------------------------------------------


def test_sources_validate_and_round_trip() -> None:
    good = [
        BasemapSource("Street", "xyz", url="https://tiles.example/{z}/{x}/{y}.png?key={key}", key="K1"),
        BasemapSource(
            "Sat",
            "wmts",
            url="https://w.example/{key}/Satellite/{TileMatrix}/{TileRow}/{TileCol}.jpeg",
            key="K",
        ),
        BasemapSource("Cadastre", "wms", url="https://wms.example/wms", layers="lp_pa_cbnd"),
        BasemapSource("Offline", "mbtiles", path="/srv/city.mbtiles"),
        BasemapSource("Offline2", "pmtiles", path="/srv/city.pmtiles"),
    ]
    for s in good:
        assert s.validate() == [], s
    parsed, problems = basemaps_from_json(basemaps_to_json(good))
    assert parsed == good and problems == []
    assert good[1].tile_url() == "https://w.example/K/Satellite/{z}/{y}/{x}.jpeg"
    assert good[0].tile_url().endswith("?key=K1")

    bad = [
        {"name": "", "kind": "xyz", "url": "https://a/{z}/{x}/{y}"},
        {"name": "x", "kind": "xyz", "url": "https://a/tiles.png"},
        {"name": "y", "kind": "xyz", "url": "file:///etc/{z}/{x}/{y}"},
        {"name": "z", "kind": "xyz", "url": "https://a/{z}/{x}/{y}?k={key}"},
        {"name": "w", "kind": "wms", "url": "https://a/wms"},
        {"name": "m", "kind": "mbtiles"},
        {"name": "q", "kind": "gopher"},
        "not an object",
    ]
    parsed, problems = basemaps_from_json(json.dumps([good[0].to_dict(), *bad]))
    assert parsed == good[:1]
    assert len(problems) == len(bad)
    assert basemaps_from_json("{nope")[1] and basemaps_from_json('{"a": 1}')[1]
    # A duplicate name would make the layer control ambiguous.
    dup, problems = basemaps_from_json(basemaps_to_json([good[0], good[0]]))
    assert len(dup) == 1 and "twice" in problems[0]


def test_legacy_settings_become_a_list() -> None:
    got = legacy_basemaps("/x/city.mbtiles", "https://t.example/{z}/{x}/{y}.png", "© t")
    assert [(s.kind, s.attribution) for s in got] == [("xyz", "© t"), ("mbtiles", "")]
    assert legacy_basemaps(None, "not a template", None) == []


def test_page_layers_serve_files_locally() -> None:
    layers = page_layers(
        [
            BasemapSource("A", "xyz", url="https://a/{z}/{x}/{y}"),
            BasemapSource("B", "pmtiles", path="/b.pmtiles"),
        ]
    )
    assert layers[0]["url"] == "https://a/{z}/{x}/{y}"
    assert layers[1]["url"] == "mbtiles://file1/{z}/{x}/{y}"
    assert all("path" not in entry for entry in layers), "file paths never reach the page"


# ---- in the browser ----------------------------------------------------------------------------


def test_xyz_with_key_loads_tiles_and_shows_attribution(
    qtbot: QtBot, make_view: Callable[..., MapView], tile_server: TileServer
) -> None:
    view = make_view()
    assert "No basemap" in snapshot(qtbot, view)["notice"]
    src = BasemapSource(
        "Street",
        "xyz",
        url=tile_server.base + "/street/{z}/{x}/{y}.png?apikey={key}",
        key="SECRET-1",
        attribution="© Test <b>Street</b> Maps",
    )
    view.set_basemaps([src], "Street")
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()  # reloaded once with remote access allowed
    wait_rendered(qtbot, view, "/street/")
    x, y = _tile_xy(*CENTER, 14)
    assert f"/street/14/{x}/{y}.png?apikey=SECRET-1" in tile_server.requests
    snap = snapshot(qtbot, view)
    assert snap["basemap"] == "Street"
    assert "© Test <b>Street</b> Maps" in snap["attribution"], "attribution shown, as text"
    assert "No basemap" not in snap["notice"]


def test_wmts_template_requests_matrix_row_col(
    qtbot: QtBot, make_view: Callable[..., MapView], tile_server: TileServer
) -> None:
    view = make_view()
    src = BasemapSource(
        "Satellite",
        "wmts",
        url=tile_server.base + "/wmts/{key}/Satellite/{TileMatrix}/{TileRow}/{TileCol}.png",
        key="K2",
        attribution="© WMTS",
    )
    view.set_basemaps([src])
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
    wait_rendered(qtbot, view, "/wmts/")
    x, y = _tile_xy(*CENTER, 14)
    assert f"/wmts/K2/Satellite/14/{y}/{x}.png" in tile_server.requests


def test_wms_getmap_requests(
    qtbot: QtBot, make_view: Callable[..., MapView], tile_server: TileServer
) -> None:
    view = make_view()
    view.set_basemaps([BasemapSource("Cadastre", "wms", url=tile_server.base + "/wms", layers="lp_pa_cbnd")])
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
    wait_rendered(qtbot, view, "/wms")
    q = parse_qs(urlsplit(tile_server.requests[0]).query)
    assert q["REQUEST"] == ["GetMap"] and q["SERVICE"] == ["WMS"] and q["LAYERS"] == ["lp_pa_cbnd"]
    assert q["CRS"] == ["EPSG:3857"] and q["WIDTH"] == ["256"]
    minx, miny, maxx, maxy = (float(v) for v in q["BBOX"][0].split(","))
    # Some requested tile covers the map's centre (in Web Mercator metres).
    import math

    cx = math.radians(CENTER[1]) * 6378137
    boxes = [
        [float(v) for v in parse_qs(urlsplit(r).query)["BBOX"][0].split(",")] for r in tile_server.requests
    ]
    assert maxx > minx and maxy > miny
    assert any(b[0] <= cx <= b[2] for b in boxes)


def test_mbtiles_file_in_the_list_serves_tiles(
    qtbot: QtBot, make_view: Callable[..., MapView], tmp_path: Path
) -> None:
    mb = tmp_path / "city.mbtiles"
    write_mbtiles(mb, 14, CENTER)
    view = make_view()
    view.set_basemaps(
        [BasemapSource("Offline", "mbtiles", path=str(mb), attribution="© offline", max_zoom=14)]
    )
    wait_rendered(qtbot, view, "mbtiles://file0/")
    assert view.tile_handler.served >= 1
    assert "© offline" in snapshot(qtbot, view)["attribution"]


def write_pmtiles(path: Path, z: int, around: tuple[float, float], color: str, radius: int = 2) -> int:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    data = png(color)
    cx, cy = _tile_xy(*around, z)
    ids = sorted(
        zxy_to_tileid(z, x, y)
        for x in range(cx - radius, cx + radius + 1)
        for y in range(cy - radius, cy + radius + 1)
    )
    with write(str(path)) as w:
        for tid in ids:
            w.write_tile(tid, data)
        w.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": z,
                "max_zoom": z,
                "min_lon_e7": int((around[1] - 0.1) * 1e7),
                "min_lat_e7": int((around[0] - 0.1) * 1e7),
                "max_lon_e7": int((around[1] + 0.1) * 1e7),
                "max_lat_e7": int((around[0] + 0.1) * 1e7),
                "center_zoom": z,
                "center_lon_e7": int(around[1] * 1e7),
                "center_lat_e7": int(around[0] * 1e7),
            },
            {"attribution": "test"},
        )
    return len(ids)


def test_pmtiles_reader_direct(tmp_path: Path) -> None:
    from app.console.map.mbtiles import PmtilesError, PmtilesSource, open_tile_file

    pm = tmp_path / "city.pmtiles"
    assert write_pmtiles(pm, 12, CENTER, "#0d47a1") == 25
    src = open_tile_file(pm)
    assert isinstance(src, PmtilesSource)
    x, y = _tile_xy(*CENTER, 12)
    tile = src.tile(12, x, y)
    assert tile is not None and QImage.fromData(tile).pixelColor(5, 5) == QColor("#0d47a1")
    assert src.tile(12, x + 10, y) is None
    assert src.tile(11, x // 2, y // 2) is None
    assert src.tile(12, 1 << 12, 0) is None
    src.close()
    bad = tmp_path / "bad.pmtiles"
    bad.write_bytes(b"PMTiles\x02" + b"\0" * 200)
    with pytest.raises(PmtilesError):
        PmtilesSource(bad).tile(12, x, y)


def test_pmtiles_file_serves_tiles(qtbot: QtBot, make_view: Callable[..., MapView], tmp_path: Path) -> None:
    pm = tmp_path / "city.pmtiles"
    write_pmtiles(pm, 14, CENTER, "#0d47a1")
    view = make_view()
    view.set_basemaps([BasemapSource("Offline", "pmtiles", path=str(pm), max_zoom=14)])
    wait_rendered(qtbot, view, "mbtiles://file0/")
    x, y = _tile_xy(*CENTER, 14)
    assert rendered_tiles(qtbot, view, f"mbtiles://file0/14/{x}/{y}") == [[True, 256]]
    # The pixel the page drew is the file's colour.
    colour = js(
        qtbot,
        view,
        f"""(function () {{ var i = Array.from(document.querySelectorAll('img.leaflet-tile'))
            .filter(i => i.src.endsWith('/14/{x}/{y}'))[0];
            var c = document.createElement('canvas'); c.width = c.height = 4;
            var g = c.getContext('2d'); g.drawImage(i, 0, 0);
            return Array.from(g.getImageData(1, 1, 1, 1).data).slice(0, 3); }})()""",
    )
    assert colour == [0x0D, 0x47, 0xA1]


def test_two_basemaps_switch_in_the_layer_control(
    qtbot: QtBot, make_view: Callable[..., MapView], tile_server: TileServer, tmp_path: Path
) -> None:
    mb = tmp_path / "street.mbtiles"
    write_mbtiles(mb, 14, CENTER)
    view = make_view()
    sources = [
        BasemapSource("Street", "mbtiles", path=str(mb), max_zoom=14),
        BasemapSource("Satellite", "xyz", url=tile_server.base + "/sat/{z}/{x}/{y}.jpg", attribution="© Sat"),
    ]
    view.set_basemaps(sources, "Street")
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
    wait_rendered(qtbot, view, "mbtiles://file0/")
    assert not any("/sat/" in r for r in tile_server.requests), "only the chosen basemap loads"
    snap = snapshot(qtbot, view)
    assert snap["basemaps"] == ["Street", "Satellite"] and snap["basemap"] == "Street"
    # The operator picks "Satellite" in the layer control (a real radio button on the page).
    labels = js(
        qtbot,
        view,
        "Array.from(document.querySelectorAll('.leaflet-control-layers-base label')).map(l => l.textContent.trim())",
    )
    assert labels == ["Street", "Satellite"]
    with qtbot.waitSignal(view.basemapChosen, timeout=TIMEOUT) as blocker:
        view.run_js(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            ".filter(l => l.textContent.trim() === 'Satellite')[0].querySelector('input').click()"
        )
    assert blocker.args == ["Satellite"]
    wait_rendered(qtbot, view, "/sat/")
    snap = snapshot(qtbot, view)
    assert snap["basemap"] == "Satellite" and "© Sat" in snap["attribution"]
    assert js(qtbot, view, "document.querySelectorAll('img.leaflet-tile[src^=\"mbtiles:\"]').length") == 0


def test_city_map_is_a_basemap_choice(
    qtbot: QtBot, make_view: Callable[..., MapView], tmp_path: Path
) -> None:
    from app.sim.city import generate_city

    files = generate_city(tmp_path / "city")
    streets = json.loads(files.streets_geojson.read_text(encoding="utf-8"))
    mb = tmp_path / "street.mbtiles"
    write_mbtiles(mb, 14, CENTER)
    view = make_view(streets=streets)
    view.set_basemaps([BasemapSource("Offline", "mbtiles", path=str(mb), max_zoom=14)], "city")
    qtbot.waitUntil(lambda: snapshot(qtbot, view)["basemaps"] == ["city", "Offline"], timeout=TIMEOUT)
    assert snapshot(qtbot, view)["basemap"] == "city"
    assert js(qtbot, view, "document.querySelectorAll('.gt-street-label').length") > 0
    view.choose_basemap("Offline")
    wait_rendered(qtbot, view, "mbtiles://file0/")
    # The city's street names go with it (tooltips fade out over 200 ms).
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('.gt-street-label').length") == 0, timeout=TIMEOUT
    )
    assert snapshot(qtbot, view)["basemap"] == "Offline"


def test_incident_overlays_on_the_page(qtbot: QtBot, make_view: Callable[..., MapView]) -> None:
    """Every CAP area, the SOS track with each fix's time, 119 facilities with access notes, units."""
    view = make_view()
    view.upsert_incident(
        {
            "id": "INC-1",
            "service": "vulnerable-sos",
            "lat": CENTER[0],
            "lon": CENTER[1],
            "title": "SOS",
            "priority": 1,
            "status": "new",
            "drill": False,
            "area": {"circle": {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 300}},
            "areas": [
                {"polygon": [[35.17, 128.07], [35.17, 128.09], [35.19, 128.09]]},
                {"circle": {"lat": 35.2, "lon": 128.1, "radius_m": 500}},
                {"circle": {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 300}},  # the same as area: once
            ],
            "track": [
                {"lat": CENTER[0], "lon": CENTER[1], "at": "09:00:00"},
                {"lat": CENTER[0] + 0.001, "lon": CENTER[1], "at": "09:01:05"},
            ],
        }
    )
    view.set_facilities(
        [
            {
                "id": "F1",
                "name": "소화전 <12>",
                "kind": "hydrant",
                "lat": 35.181,
                "lon": 128.08,
                "notes": "북쪽 골목",
            }
        ]
    )
    view.set_units([{"id": "PUMPER-1", "kind": "pumper", "lat": 35.182, "lon": 128.081, "at": "09:02:00"}])
    snap = snapshot(qtbot, view)
    assert snap["areaShapes"] == 3 and snap["facilities"] == 1 and snap["units"] == 1
    assert js(
        qtbot, view, "Array.from(document.querySelectorAll('.gt-track-time')).map(e => e.textContent)"
    ) == ["09:01:05"], "the newest fix's time is always shown"
    tip = js(qtbot, view, "gt.debug.map() && document.querySelector('[data-facility-id=\"F1\"]') !== null")
    assert tip is True
    assert js(qtbot, view, "document.querySelector('[data-unit-id]').textContent") == "PUMPER-1"
    # Replayed after a reload (a renderer crash): state lives in Python.
    view.web_view.reload()
    qtbot.waitSignal(view.ready, timeout=TIMEOUT).wait()
    snap = snapshot(qtbot, view)
    assert snap["areaShapes"] == 3 and snap["facilities"] == 1 and snap["units"] == 1 and snap["tracks"] == 1


def test_pmtiles_reader_follows_leaf_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big archive keeps its entries in leaf directories: every tile is still found."""
    from pmtiles import writer as pmwriter
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    # The writer moves entries into leaves when the root passes 16 KB; a tiny limit makes a small test
    # archive have them too.
    real = pmwriter.optimize_directories
    monkeypatch.setattr(pmwriter, "optimize_directories", lambda entries, _target: real(entries, 60))

    from app.console.map.mbtiles import PmtilesSource

    z = 12
    tiles = [(z, x, y) for x in range(0, 200, 2) for y in range(0, 200, 2)]  # 10,000 tiles: 3 leaves
    pm = tmp_path / "big.pmtiles"
    with write(str(pm)) as w:
        for zz, x, y in sorted(tiles, key=lambda t: zxy_to_tileid(*t)):
            w.write_tile(zxy_to_tileid(zz, x, y), b"\x89PNG" + f"{x},{y}".encode())
        w.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": z,
                "max_zoom": z,
                "min_lon_e7": 0,
                "min_lat_e7": 0,
                "max_lon_e7": 10,
                "max_lat_e7": 10,
                "center_zoom": z,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {},
        )
    src = PmtilesSource(pm)
    assert src.tile(z, 0, 0) == b"\x89PNG0,0"
    header = src._open()[1]
    assert header["leaf_directory_length"] > 0, "the archive has leaf directories"
    for x, y in ((198, 198), (78, 2), (2, 78), (100, 46), (150, 8)):
        assert src.tile(z, x, y) == b"\x89PNG" + f"{x},{y}".encode()
    assert src.tile(z, 101, 5) is None
    src.close()

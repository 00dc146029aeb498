"""The wall display in-process (pytest-qt): its layout from a real engine, live; the waiting state; re-login
after the session is revoked; tiles that move without reconnecting; players that get stuck or raise."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from console_support import OPERATOR, Engine
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.console.wall.model import LinkState, WallDisplayModel
from app.console.wall.runner import WallDisplay, WallOptions
from app.console.wall.window import STUCK_S, WallCameraCell, WallWindow
from app.engine.auth import Principal
from app.engine.services.wall_keys import add_wall_key
from app.formats.api import WallOut
from app.video.choice import BackendName, ReconnectPolicy
from app.video.factory import BackendFactory
from app.video.tile_model import TileStatus

pytestmark = pytest.mark.qt_log_ignore(
    r"No RHI backend\. Using CPU conversion", r"^Demuxing failed", r"^Could not open media"
)
TIMEOUT = 20_000


def quick_policy() -> ReconnectPolicy:
    return ReconnectPolicy(base_s=0.2, cap_s=1.0)


class Operator:
    """Another console driving the walls over HTTP."""

    def __init__(self, engine: Engine) -> None:
        self.http = engine.e.http
        r = self.http.post("/api/v1/sessions", json={"username": OPERATOR[0], "password": OPERATOR[1]})
        self.headers = {"authorization": f"Bearer {r.json()['token']}"}

    def put(self, tiles: list[str | None], grid: int = 4, name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"layout": {"grid": grid, "tiles": tiles}}
        if name:
            body["name"] = name
        r = self.http.put("/api/v1/walls/WALL-1", headers=self.headers, json=body)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.http.post(path, headers=self.headers, json=body)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def walls(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.http.get("/api/v1/walls", headers=self.headers).json()
        return out


@pytest.fixture
def display_factory(
    engine: Engine, qapp: QApplication, aw: Callable[..., Any], tmp_path: Path
) -> Iterator[Callable[..., WallDisplay]]:
    key = new_wall_key(engine)
    made: list[WallDisplay] = []

    def make(key: Any = key, engine_url: str | None = None, **extra: Any) -> WallDisplay:
        options = WallOptions(
            engine_url or engine.url,
            "WALL-1",
            key,
            language="en",
            fullscreen=False,
            status_path=tmp_path / f"status{len(made)}.json",
            **extra,
        )
        d = WallDisplay(options, qapp)
        made.append(d)
        aw(d.start())
        d.window.resize(1280, 720)
        return d

    yield make
    for d in made:
        aw(d.stop(), timeout=30_000)


ADMIN = Principal(kind="system", id="test", name="test")


def new_wall_key(engine: Engine) -> str:
    """``python main.py walls add WALL-1``: a new key (the wall's earlier key stops)."""
    with engine.e.server.uow(ADMIN) as work:
        return add_wall_key(work.session, "WALL-1", work.now)


def status_file(d: WallDisplay) -> dict[str, Any]:
    assert d.options.status_path is not None
    try:
        out: dict[str, Any] = json.loads(d.options.status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return out


def test_wall_waits_for_its_layout_then_follows_it_live(
    engine: Engine, display_factory: Callable[..., WallDisplay], qtbot: QtBot
) -> None:
    op = Operator(engine)
    d = display_factory()
    w, link = d.window, d.link
    qtbot.waitUntil(lambda: d.model.link is LinkState.CONNECTED and d.model.missing, timeout=TIMEOUT)
    assert w.waiting.isVisible() and "Waiting for a layout for wall WALL-1" in w.waiting.text()
    assert w.notice_label.text() == ""  # calm: the body says it, the header has nothing to report
    assert op.walls() == []  # the wall created nothing
    qtbot.waitUntil(lambda: status_file(d).get("waiting") is True, timeout=TIMEOUT)
    assert w.windowFlags() & w.windowFlags().FramelessWindowHint

    # A console gives the wall a layout: it follows at once, with the cameras' names.
    op.put(["CAM-0001", None, "CAM-0002"], name="Situation room wall")
    qtbot.waitUntil(lambda: set(w.camera_cells) == {"CAM-0001", "CAM-0002"}, timeout=TIMEOUT)
    assert w.name_label.text() == "Situation room wall" and not w.waiting.isVisible()
    cell = w.camera_cells["CAM-0001"]
    qtbot.waitUntil(lambda: cell.isVisible(), timeout=TIMEOUT)
    assert cell.name == "Camera 1" and cell.urls is not None
    assert cell.urls[1].endswith("/CAM-0001~sub.ts") and link.grant_token in cell.urls[0]
    qtbot.waitUntil(
        lambda: (
            [c["camera_id"] for c in status_file(d).get("cells", [])] == ["CAM-0001", None, "CAM-0002", None]
        ),
        timeout=TIMEOUT,
    )

    # A reordered, bigger layout: the cameras that stay keep their tile (they move, they do not reconnect).
    backend = cell.tile.backend
    op.put(["CAM-0002", "CAM-0003", "CAM-0001"], grid=9)
    qtbot.waitUntil(lambda: set(w.camera_cells) == {"CAM-0001", "CAM-0002", "CAM-0003"}, timeout=TIMEOUT)
    assert w.camera_cells["CAM-0001"] is cell and cell.tile.backend is backend
    assert d.model.view is not None and d.model.view.side == 3

    # An incident takeover: its cameras and the map; the header says so. Release: back as before.
    incident = engine.request("W-1")["incident"]
    op.post("/api/v1/walls/WALL-1/takeover", {"incident_id": incident["id"]})
    qtbot.waitUntil(lambda: w.map_cell is not None and w.map_cell.isVisible(), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: w.badge.isVisible() and w.incident_label.text() == incident["title"], timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: status_file(d).get("map_ready") is True, timeout=30_000)
    assert status_file(d)["mode"] == "incident"
    op.post("/api/v1/walls/WALL-1/release")
    qtbot.waitUntil(lambda: d.model.view is not None and d.model.view.mode == "normal", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.map_cell is not None and not w.map_cell.isVisible(), timeout=TIMEOUT)
    assert not w.badge.isVisible()
    assert set(w.camera_cells) == {"CAM-0001", "CAM-0002", "CAM-0003"}
    assert link.task_count <= 2  # nothing piles up


def test_a_revoked_wall_key_stops_the_wall_and_a_new_key_file_brings_it_back(
    engine: Engine, display_factory: Callable[..., WallDisplay], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.console.wall.link as link_module

    monkeypatch.setattr(link_module, "LOGIN_REFUSED_RETRY_S", 0.3)
    op = Operator(engine)
    op.put(["CAM-0001"])
    key_file = [new_wall_key(engine)]
    d = display_factory(key=lambda: key_file[0])
    link = d.link
    qtbot.waitUntil(lambda: d.window.camera_cells.get("CAM-0001") is not None, timeout=TIMEOUT)
    old_grant = link.grant_token
    assert link.logins == 1 and old_grant
    # An administrator issues a new key for WALL-1 (walls add): the old one stops at once, the wall says so.
    replacement = new_wall_key(engine)
    op.put(["CAM-0001", "CAM-0004"])
    qtbot.waitUntil(lambda: d.model.link is LinkState.LOGIN_REFUSED, timeout=TIMEOUT)
    assert "refused the wall key" in d.window.notice_label.text()
    # The new key file is installed on the wall PC: the wall picks it up without a restart.
    key_file[0] = replacement
    qtbot.waitUntil(lambda: link.logins == 2 and link.grant_token != old_grant, timeout=TIMEOUT)
    cell = d.window.camera_cells.get("CAM-0004")
    qtbot.waitUntil(lambda: cell is not None and cell.name == "Camera 4", timeout=TIMEOUT)
    # Tiles take the new grant's URLs.
    assert link.grant_token is not None
    qtbot.waitUntil(
        lambda: all(c.urls and link.grant_token in c.urls[0] for c in d.window.camera_cells.values()),
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: d.model.link is LinkState.CONNECTED, timeout=TIMEOUT)
    assert d.window.notice_label.text() == ""
    # No tile able to play for a minute makes the window ask for new media access: a fresh grant.
    # (A retry started while the refused key was being replaced may log in once more under load, so the
    # check is that renewing media needs no login of its own.)
    grant, logins = link.grant_token, link.logins
    with qtbot.waitSignal(link.mediaChanged, timeout=TIMEOUT):
        link.renew_media()
    assert link.grant_token != grant and link.logins == logins


def test_wall_without_a_working_account_says_so_in_the_header(
    display_factory: Callable[..., WallDisplay], qtbot: QtBot
) -> None:
    nobody = display_factory(key="")
    wrong = display_factory(key="gtw_not-the-key")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    away = display_factory(engine_url=f"http://127.0.0.1:{closed_port}")
    qtbot.waitUntil(lambda: away.model.link is LinkState.OFFLINE, timeout=TIMEOUT)
    assert away.window.notice_label.text() == "Engine unreachable, retrying…"
    assert "Wall WALL-1: connecting to the engine" in away.window.waiting.text()
    qtbot.waitUntil(lambda: nobody.model.link is LinkState.NO_ACCOUNT, timeout=TIMEOUT)
    assert "No wall key" in nobody.window.notice_label.text()
    qtbot.waitUntil(lambda: wrong.model.link is LinkState.LOGIN_REFUSED, timeout=TIMEOUT)
    assert "refused the wall key" in wrong.window.notice_label.text()
    assert nobody.link.logins == wrong.link.logins == 0


# ---------------------------------------------------------------------- tiles, with a local live stream


@pytest.fixture
def vlc_factory() -> Iterator[BackendFactory]:
    made = BackendFactory("auto")
    yield made
    made.close()


def wall_out(tiles: list[str | None], grid: int, n: int) -> WallOut:
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    return WallOut(id="W", name="W", grid=grid, tiles=tiles, show_map=False, mode="normal", updated_at=at)


def test_tiles_move_without_reconnecting_and_leave_when_the_wall_goes(
    qtbot: QtBot, vlc_factory: BackendFactory, ts_server: Any
) -> None:
    model = WallDisplayModel("W")
    w = WallWindow(model, vlc_factory, lambda cid: (ts_server.url(cid), ts_server.url(cid)), lambda cid: cid)
    qtbot.addWidget(w, before_close_func=lambda win: win.close_players())
    w.resize(960, 540)
    w.show()
    model.apply_wall(wall_out(["A", "B"], 4, 1))
    w.render()
    qtbot.waitUntil(
        lambda: all(c.status is TileStatus.LIVE for c in w.camera_cells.values()), timeout=TIMEOUT
    )
    a = w.camera_cells["A"]
    backend, states = a.tile.backend, []
    assert backend is not None and backend.name is BackendName.VLC
    a.tile.stateChanged.connect(states.append)
    model.apply_wall(wall_out(["B", "C", "A"], 9, 2))
    w.render()
    qtbot.waitUntil(lambda: w.camera_cells["C"].status is TileStatus.LIVE and a.isVisible(), timeout=TIMEOUT)
    assert w.camera_cells["A"] is a and a.tile.backend is backend and a.status is TileStatus.LIVE
    assert states == []  # never went back to connecting
    model.wall_missing()
    w.render()
    assert w.camera_cells == {} and w.waiting.isVisible()
    assert a.tile.status is TileStatus.EMPTY and a.tile.backend is None  # its player is gone


class FlakyFactory(BackendFactory):
    """The first player it makes raises when asked to open a stream (a broken libVLC, a bad driver)."""

    def __init__(self) -> None:
        super().__init__("auto")
        self.failures = 1

    def create(self, name: BackendName, surface_parent: Any = None) -> Any:
        backend = super().create(name, surface_parent)
        if self.failures:
            self.failures -= 1

            def boom(url: str) -> None:
                raise RuntimeError("player crashed")

            backend.open = boom
        return backend


def test_a_player_that_raises_is_replaced_and_a_stuck_tile_is_restarted(qtbot: QtBot, ts_server: Any) -> None:
    factory = FlakyFactory()
    # The tile schedules its reconnects on the monotonic clock: the supervisor's clock starts there too
    # (a fixed start would make the test depend on how long the machine has been up).
    now = [time.monotonic()]
    cell = WallCameraCell(factory, clock=lambda: now[0], policy=quick_policy)
    qtbot.addWidget(cell, before_close_func=lambda c: c.close_player())
    cell.resize(480, 300)
    cell.show()
    try:
        cell.show_camera("A", "Camera A", (ts_server.url("a"), ts_server.url("a")))
        assert cell.replacements == 1 and factory.failures == 0
        qtbot.waitUntil(lambda: cell.status is TileStatus.LIVE, timeout=TIMEOUT)

        # The camera's stream dies and the tile's own reconnects never come (a dead timer, a wedged player):
        # the supervisor notices after STUCK_S and restarts the tile.
        ts_server.stop()
        qtbot.waitUntil(lambda: cell.status in (TileStatus.OFFLINE, TileStatus.ERROR), timeout=TIMEOUT)
        cell.supervise()
        assert cell.restarts == 0
        now[0] += 10_000  # the scheduled reconnect is long overdue on the supervisor's clock
        cell.supervise()
        now[0] += STUCK_S + 1
        ts_server.start()
        cell.supervise()
        assert cell.restarts == 1
        qtbot.waitUntil(lambda: cell.status is TileStatus.LIVE, timeout=TIMEOUT)
        cell.supervise()
        assert cell.restarts == 1
    finally:
        cell.close_player()
        factory.close()


def test_takeover_map_reads_the_demo_city_layers(tmp_path: Path) -> None:
    """GOLDENTIME_WALL_MAP_CITY: the wall's takeover map draws the demo city's districts and streets."""
    from app.console.wall.runner import _city_layers
    from app.sim.city import generate_city

    files = generate_city(tmp_path / "city")
    districts, streets = _city_layers(files.out_dir)
    assert districts is not None and len(districts["features"]) >= 9
    assert streets is not None and {f["properties"]["kind"] for f in streets["features"]} >= {"main", "river"}
    assert _city_layers(tmp_path / "missing") == (None, None)
    assert _city_layers(None) == (None, None)


def test_takeover_map_uses_the_consoles_basemap_list(
    engine: Engine, display_factory: Callable[..., WallDisplay], qtbot: QtBot, tmp_path: Path
) -> None:
    """The wall reads the console's ``map/basemaps`` (a console.ini) and shows the chosen one on its
    takeover map, its tiles served from the offline file; a file missing on the wall PC is left out."""
    from PySide6.QtCore import QSettings
    from test_map_view import CENTER, write_mbtiles

    from app.console.map.basemaps import BasemapSource
    from app.console.viewmodels.console_settings import ConsoleSettings, save_settings
    from app.console.wall.runner import basemaps_from_settings

    mb = tmp_path / "street.mbtiles"
    write_mbtiles(mb, 15, CENTER)
    ini = tmp_path / "console.ini"
    store = QSettings(str(ini), QSettings.Format.IniFormat)
    save_settings(
        store,
        ConsoleSettings(
            basemaps=[
                BasemapSource("Gone", "mbtiles", path=str(tmp_path / "gone.mbtiles")),
                BasemapSource("Offline street", "mbtiles", path=str(mb), max_zoom=15),
            ],
            basemap="Offline street",
        ),
    )
    store.sync()
    sources, chosen = basemaps_from_settings(ini)
    assert [b.name for b in sources] == ["Offline street"] and chosen == "Offline street"
    assert basemaps_from_settings(tmp_path / "none.ini") == ([], "")

    op = Operator(engine)
    d = display_factory(basemaps=sources, basemap_choice=chosen, center=CENTER)
    op.put(["CAM-0001"], name="Wall")
    incident = engine.request("W-MAP")["incident"]
    op.post("/api/v1/walls/WALL-1/takeover", {"incident_id": incident["id"]})
    w = d.window
    qtbot.waitUntil(lambda: status_file(d).get("map_ready") is True, timeout=30_000)
    view = w.map_cell.view

    def snap() -> dict[str, Any]:
        got: list[dict[str, Any]] = []
        view.snapshot(got.append)
        qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
        return got[0]

    qtbot.waitUntil(lambda: snap().get("basemaps") == ["Offline street"], timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: snap()["tiles"]["byName"].get("Offline street", {}).get("loaded", 0) >= 1, timeout=TIMEOUT
    )
    assert snap()["basemap"] == "Offline street"

"""VideoTile with real backends and a real local stream: live, offline, reconnect, variants, teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot
from video_support import qt_multimedia_log_ignore
from video_ts_server import LiveTsServer

from app.video.choice import BackendName, BackendSetting, ReconnectPolicy, StreamVariant
from app.video.factory import BackendFactory
from app.video.tile import VideoTile
from app.video.tile_model import TileStatus

pytestmark = [qt_multimedia_log_ignore]

TIMEOUT_MS = 15_000


@pytest.fixture(params=[BackendSetting.AUTO, BackendSetting.QT], ids=["vlc", "qt"])
def tile_factory(request: pytest.FixtureRequest) -> Iterator[BackendFactory]:
    made = BackendFactory(request.param)
    yield made
    made.close()


def make_tile(qtbot: QtBot, factory: BackendFactory, size: tuple[int, int] = (480, 300)) -> VideoTile:
    # Quick, capped backoff so that a reconnect test does not wait 8 s.
    tile = VideoTile(factory, policy=ReconnectPolicy(base_s=0.2, cap_s=1.0))
    qtbot.addWidget(tile, before_close_func=lambda w: w.close_player())
    tile.resize(*size)
    tile.show()
    qtbot.waitExposed(tile)
    return tile


def test_tile_plays_shows_backend_and_reconnects_after_the_camera_comes_back(
    qtbot: QtBot, tile_factory: BackendFactory, ts_server: LiveTsServer
) -> None:
    tile = make_tile(qtbot, tile_factory)
    seen: list[TileStatus] = []
    tile.stateChanged.connect(seen.append)
    tile.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    expected = BackendName.QT if tile_factory.setting is BackendSetting.QT else BackendName.VLC
    assert tile.model.backend is expected
    assert tile.backend is not None and tile.backend.url.endswith("/sub.ts")
    assert tile._badge.text() == ("Qt · sub" if expected is BackendName.QT else "VLC · sub")
    assert tile._name.text() == "City hall"
    assert tile._status.text() == "Live"
    assert tile._stack.currentWidget() is tile.backend.video_widget
    image = tile.snapshot()
    assert image is not None and image.width() == 640

    ts_server.stop()
    qtbot.waitUntil(
        lambda: tile.status in (TileStatus.OFFLINE, TileStatus.STALLED, TileStatus.ERROR), timeout=TIMEOUT_MS
    )
    qtbot.waitUntil(lambda: "last frame" in tile._detail.text(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: tile.status is not TileStatus.STALLED, timeout=TIMEOUT_MS)
    assert tile._stack.currentWidget() is tile._placeholder
    assert tile._placeholder.text() in ("Camera offline", "Cannot play this camera", "Connecting…")
    connections = ts_server.connections
    ts_server.start()
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    assert ts_server.connections > connections
    assert seen[0] is TileStatus.CONNECTING and TileStatus.LIVE in seen
    assert seen[-1] is TileStatus.LIVE
    assert any(s in (TileStatus.OFFLINE, TileStatus.STALLED, TileStatus.ERROR) for s in seen)


def test_stalled_stream_is_detected_and_reconnected(
    qtbot: QtBot, tile_factory: BackendFactory, ts_server: LiveTsServer
) -> None:
    tile = make_tile(qtbot, tile_factory)
    tile.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    ts_server.pause()  # connection open, no data: a hung camera
    qtbot.waitUntil(lambda: tile.status is not TileStatus.LIVE, timeout=TIMEOUT_MS)
    ts_server.resume()
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)


def test_maximised_tile_switches_to_the_main_stream(
    qtbot: QtBot, tile_factory: BackendFactory, ts_server: LiveTsServer
) -> None:
    tile = make_tile(qtbot, tile_factory)
    tile.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    tile.resize(1280, 720)
    qtbot.waitUntil(lambda: tile.model.variant is StreamVariant.MAIN, timeout=TIMEOUT_MS)
    assert tile.backend is not None and tile.backend.url.endswith("/main.ts")
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    assert tile._badge.text().endswith("main")
    tile.resize(480, 300)
    qtbot.waitUntil(lambda: tile.model.variant is StreamVariant.SUB, timeout=TIMEOUT_MS)
    assert tile.backend.url.endswith("/sub.ts")


def test_double_click_and_clear(qtbot: QtBot, factory: BackendFactory, ts_server: LiveTsServer) -> None:
    tile = make_tile(qtbot, factory)
    tile.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    assert tile.backend is not None
    surface = tile.backend.video_widget
    with qtbot.waitSignal(tile.doubleClicked, timeout=2000):
        qtbot.mouseDClick(surface, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(tile.doubleClicked, timeout=2000):
        qtbot.mouseDClick(tile._bar, Qt.MouseButton.LeftButton)

    with qtbot.waitSignal(tile.stateChanged, timeout=2000) as blocker:
        tile.clear()
    assert blocker.args == [TileStatus.EMPTY]
    assert tile.backend is None
    assert tile._placeholder.text() == "No camera"


def test_camera_without_stream_shows_an_error(qtbot: QtBot, factory: BackendFactory) -> None:
    tile = make_tile(qtbot, factory)
    tile.set_camera("CAM-9", "No URL", "", "")
    assert tile.status is TileStatus.ERROR
    assert tile.backend is None
    assert tile._placeholder.text() == "Cannot play this camera"
    assert tile._placeholder.toolTip() == "no stream URL"


def test_deleting_the_parent_releases_the_vlc_player_first(
    qtbot: QtBot, factory: BackendFactory, ts_server: LiveTsServer
) -> None:
    """The destroyed-safe path: no close_player(), the window just goes; the process must survive."""
    window = QWidget()
    layout = QVBoxLayout(window)
    tile = VideoTile(factory, window)
    layout.addWidget(tile)
    window.resize(480, 300)
    window.show()
    qtbot.waitExposed(window)
    tile.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT_MS)
    backend = tile.backend
    assert backend is not None and backend.name is BackendName.VLC
    shiboken6.delete(window)  # C++ deletes the tile and the native surface under libVLC
    assert backend.released
    qtbot.wait(300)  # libVLC's threads are gone: nothing happens afterwards
    # a new tile on the same runtime still plays
    again = make_tile(qtbot, factory)
    again.set_camera("CAM-1", "City hall", ts_server.url("main"), ts_server.url("sub"))
    qtbot.waitUntil(lambda: again.status is TileStatus.LIVE, timeout=TIMEOUT_MS)

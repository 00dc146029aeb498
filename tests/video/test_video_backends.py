"""Both player backends against a real live H.264 MPEG-TS over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from video_support import qt_multimedia_log_ignore
from video_ts_server import LiveTsServer

from app.video.backend import PlayerBackend
from app.video.choice import BackendName
from app.video.factory import BackendFactory
from app.video.state import PlayerState, PlayerStats

pytestmark = [qt_multimedia_log_ignore]

LIVE_TIMEOUT_MS = 10_000


@pytest.fixture(params=[BackendName.VLC, BackendName.QT], ids=["vlc", "qt"])
def player(request: pytest.FixtureRequest, qtbot: QtBot, factory: BackendFactory) -> Iterator[PlayerBackend]:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(640, 360)
    backend = factory.create(request.param, host)
    backend.video_widget.resize(640, 360)
    host.show()
    yield backend
    backend.release()  # before qtbot closes the host widget


def test_this_machine_chooses_vlc_for_http_and_qt_for_rtsp(factory: BackendFactory) -> None:
    """Debian's libVLC has no live555: rtsp:// goes to Qt Multimedia, HTTP MPEG-TS to libVLC."""
    assert factory.vlc_available
    assert factory.choose("http://127.0.0.1:1/cam.ts") is BackendName.VLC
    expected = BackendName.VLC if factory.vlc_can_rtsp else BackendName.QT
    assert factory.choose("rtsp://127.0.0.1:8554/cam") is expected


def test_goes_live_with_frames_stats_and_a_snapshot(
    qtbot: QtBot, player: PlayerBackend, ts_server: LiveTsServer
) -> None:
    states: list[PlayerState] = []
    player.stateChanged.connect(states.append)
    player.open(ts_server.url())
    assert player.state is PlayerState.IDLE
    with qtbot.waitSignal(player.firstFrame, timeout=LIVE_TIMEOUT_MS):
        player.play()
    assert player.state is PlayerState.LIVE
    assert states == [PlayerState.CONNECTING, PlayerState.LIVE]

    samples: list[PlayerStats] = []
    player.statsUpdated.connect(samples.append)
    qtbot.waitUntil(lambda: len(samples) >= 3 and samples[-1].frames >= 15, timeout=LIVE_TIMEOUT_MS)
    last = samples[-1]
    assert last.frames > 0  # decoded and shown frames
    assert 5 < last.fps < 25  # a 15 fps stream
    assert last.last_frame_age_s is not None and last.last_frame_age_s < 1.0
    if player.name is BackendName.VLC:
        assert last.dropped_frames is not None
        assert any(s.bitrate_kbps for s in samples)

    image = player.snapshot()
    assert image is not None and not image.isNull()
    assert (image.width(), image.height()) == (640, 360)
    centre = image.pixelColor(320, 180)
    assert (centre.red(), centre.green(), centre.blue()) != (0, 0, 0)  # a picture, not black

    player.stop()
    assert player.state is PlayerState.IDLE
    assert player.snapshot() is None


def test_dead_server_goes_offline_and_a_new_play_comes_back(
    qtbot: QtBot, player: PlayerBackend, ts_server: LiveTsServer
) -> None:
    player.open(ts_server.url())
    with qtbot.waitSignal(player.firstFrame, timeout=LIVE_TIMEOUT_MS):
        player.play()

    ts_server.stop()
    qtbot.waitUntil(lambda: player.state.is_down, timeout=LIVE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: player.state in (PlayerState.OFFLINE, PlayerState.ERROR), timeout=LIVE_TIMEOUT_MS)

    ts_server.start()
    player.open(ts_server.url())
    with qtbot.waitSignal(player.firstFrame, timeout=LIVE_TIMEOUT_MS):
        player.play()
    assert player.state is PlayerState.LIVE


def test_refused_connection_is_reported(qtbot: QtBot, player: PlayerBackend, ts_server: LiveTsServer) -> None:
    url = ts_server.url()
    ts_server.stop()
    player.open(url)
    with qtbot.waitSignal(player.errorOccurred, timeout=LIVE_TIMEOUT_MS) as blocker:
        player.play()
    assert blocker.args and blocker.args[0]
    assert player.state in (PlayerState.OFFLINE, PlayerState.ERROR)


def test_release_is_final_and_idempotent(
    qtbot: QtBot, player: PlayerBackend, ts_server: LiveTsServer
) -> None:
    player.open(ts_server.url())
    with qtbot.waitSignal(player.firstFrame, timeout=LIVE_TIMEOUT_MS):
        player.play()
    player.release()
    player.release()
    assert player.released
    assert player.snapshot() is None
    with pytest.raises(RuntimeError):
        player.play()

"""TileStateModel: status, variant, last-frame age and reconnect schedule, driven without a window."""

from __future__ import annotations

import pytest

from app.video.choice import BackendName, ReconnectPolicy, StreamVariant
from app.video.state import PlayerState, PlayerStats
from app.video.tile_model import TileStateModel, TileStatus


def model() -> TileStateModel:
    return TileStateModel(ReconnectPolicy(jitter=0, stable_s=10))


def stats(age: float | None) -> PlayerStats:
    return PlayerStats(fps=15, frames=10, dropped_frames=0, bitrate_kbps=600, last_frame_age_s=age)


def test_empty_tile() -> None:
    m = model()
    view = m.view(0)
    assert view.status is TileStatus.EMPTY
    assert m.url is None
    assert view.camera_name == ""


def test_camera_plays_sub_then_main_when_large() -> None:
    m = model()
    assert m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts") == "http://r/sub.ts"
    assert m.status is TileStatus.CONNECTING
    assert m.update_size(640, 360) is False
    assert m.update_size(1920, 1040) is True  # maximised
    assert m.variant is StreamVariant.MAIN
    assert m.url == "http://r/main.ts"
    assert m.update_size(1900, 1000) is False
    assert m.update_size(640, 360) is True
    assert m.url == "http://r/sub.ts"


def test_camera_with_one_stream_plays_it_at_any_size() -> None:
    m = model()
    assert m.set_camera("CAM-2", "Bridge", "http://r/main.ts", "") == "http://r/main.ts"
    assert m.update_size(1920, 1040) is False  # same URL either way: no reopen


def test_camera_without_url_is_an_error() -> None:
    m = model()
    assert m.set_camera("CAM-3", "Dark", "", "") is None
    assert m.status is TileStatus.ERROR
    assert m.view(0).error


def test_live_offline_reconnect_cycle_with_backoff() -> None:
    m = model()
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    m.set_backend(BackendName.VLC)
    m.on_player_state(PlayerState.CONNECTING, 0.0)
    m.on_player_state(PlayerState.LIVE, 1.0)
    m.on_stats(stats(0.2), 3.0)
    assert m.view(3.0).last_frame_age_s == pytest.approx(0.2)
    assert m.reconnect_at is None

    m.on_player_state(PlayerState.OFFLINE, 5.0)
    assert m.status is TileStatus.OFFLINE
    assert m.reconnect_at == 5.5
    view = m.view(5.2)
    assert view.reconnect_in_s == pytest.approx(0.3)
    assert view.last_frame_age_s == pytest.approx(2.4)
    assert view.backend is BackendName.VLC
    assert m.take_reconnect(5.4) is None  # not due yet
    assert m.take_reconnect(5.5) == "http://r/sub.ts"
    m.on_opened()
    assert m.status is TileStatus.CONNECTING and m.reconnect_at is None

    m.on_player_state(PlayerState.ERROR, 6.0)  # connection refused
    assert m.reconnect_at == 7.0  # 1 s: backing off
    m.on_opened()
    m.on_player_state(PlayerState.ERROR, 7.5)
    assert m.reconnect_at == 9.5

    m.on_opened()
    m.on_player_state(PlayerState.LIVE, 10.0)
    assert m.status is TileStatus.LIVE and m.reconnect_at is None
    m.on_player_state(PlayerState.STALLED, 25.0)  # live for 15 s: the series starts again
    assert m.status is TileStatus.STALLED
    assert m.reconnect_at == 25.5


def test_a_second_down_state_keeps_the_pending_reconnect() -> None:
    m = model()
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    m.on_player_state(PlayerState.LIVE, 1.0)
    m.on_player_state(PlayerState.STALLED, 4.0)
    m.on_player_state(PlayerState.OFFLINE, 4.2)
    assert m.status is TileStatus.OFFLINE
    assert m.reconnect_at == 4.5


def test_stall_that_recovers_cancels_the_reconnect() -> None:
    m = model()
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    m.on_player_state(PlayerState.LIVE, 1.0)
    m.on_player_state(PlayerState.STALLED, 4.0)
    m.on_player_state(PlayerState.LIVE, 4.3)
    assert m.reconnect_at is None
    assert m.take_reconnect(5.0) is None


def test_idle_and_events_without_camera_change_nothing() -> None:
    m = model()
    m.on_player_state(PlayerState.OFFLINE, 1.0)
    assert m.status is TileStatus.EMPTY and m.reconnect_at is None
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    m.on_player_state(PlayerState.LIVE, 1.0)
    m.on_player_state(PlayerState.IDLE, 2.0)
    assert m.status is TileStatus.LIVE


def test_clear_and_new_camera_forget_the_old_stream() -> None:
    m = model()
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    m.on_player_state(PlayerState.LIVE, 1.0)
    m.on_player_state(PlayerState.OFFLINE, 2.0)
    m.on_error("stream ended")
    m.set_camera("CAM-2", "Bridge", "http://r/m2.ts", "http://r/s2.ts")
    view = m.view(3.0)
    assert view.status is TileStatus.CONNECTING
    assert view.last_frame_age_s is None and view.reconnect_in_s is None and view.error == ""
    m.clear()
    assert m.status is TileStatus.EMPTY and m.camera is None


def test_operator_reconnect_resets_backoff() -> None:
    m = model()
    m.set_camera("CAM-1", "Gate", "http://r/main.ts", "http://r/sub.ts")
    for t in (1.0, 2.0, 3.0):
        m.on_player_state(PlayerState.ERROR, t)
        m.on_opened()
    assert m.policy.attempt == 3
    m.reconnect_now()
    assert m.policy.attempt == 0

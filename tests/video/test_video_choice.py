"""Pure decisions: backend choice, stream variant, reconnect backoff (no Qt, no screen)."""

from __future__ import annotations

import random

import pytest

from app.video.choice import (
    BackendName,
    BackendSetting,
    ReconnectPolicy,
    StreamVariant,
    choose_backend,
    stream_variant_for_size,
    url_scheme,
)

HTTP = "http://127.0.0.1:8000/media/tok/CAM-1.ts"
RTSP = "rtsp://10.0.0.7:554/Streaming/Channels/102"


@pytest.mark.parametrize(
    ("url", "setting", "available", "rtsp", "expected"),
    [
        (HTTP, "auto", True, False, BackendName.VLC),
        (RTSP, "auto", True, False, BackendName.QT),  # Debian/Ubuntu libVLC: no live555
        (RTSP, "auto", True, True, BackendName.VLC),  # Windows/macOS libVLC
        ("RTSP://CAM/1", "auto", True, True, BackendName.VLC),
        ("rtsps://cam/1", "auto", True, False, BackendName.QT),
        ("https://relay/x.m3u8", "auto", True, False, BackendName.VLC),
        ("/srv/clips/loop.ts", "auto", True, False, BackendName.VLC),
        ("srt://cam:9000", "auto", True, True, BackendName.QT),  # unknown to libVLC 3 builds
        (HTTP, "auto", False, False, BackendName.QT),
        (HTTP, "qt", True, True, BackendName.QT),
        (RTSP, "vlc", True, False, BackendName.VLC),  # an explicit setting wins
        (RTSP, "vlc", False, False, BackendName.QT),  # …unless libVLC is not installed at all
        (HTTP, BackendSetting.QT, True, True, BackendName.QT),
    ],
)
def test_choose_backend(url: str, setting: str, available: bool, rtsp: bool, expected: BackendName) -> None:
    assert choose_backend(url, setting, vlc_available=available, vlc_can_rtsp=rtsp) is expected


def test_choose_backend_rejects_unknown_setting() -> None:
    with pytest.raises(ValueError):
        choose_backend(HTTP, "gstreamer", vlc_available=True, vlc_can_rtsp=True)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [(HTTP, "http"), ("RTSP://a/b", "rtsp"), ("/tmp/x.ts", "file"), ("C:\\clips\\x.ts", "file")],
)
def test_url_scheme(url: str, scheme: str) -> None:
    assert url_scheme(url) == scheme


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((480, 270), StreamVariant.SUB),
        ((960, 540), StreamVariant.SUB),  # a 2×2 grid on a 1080p screen
        ((961, 540), StreamVariant.MAIN),
        ((1920, 1040), StreamVariant.MAIN),  # maximised
        ((700, 600), StreamVariant.MAIN),  # tall tile
    ],
)
def test_stream_variant_for_size(size: tuple[int, int], expected: StreamVariant) -> None:
    assert stream_variant_for_size(*size) is expected


def test_stream_variant_hysteresis() -> None:
    main = StreamVariant.MAIN
    assert stream_variant_for_size(900, 500, main) is main  # just below the threshold: keep main
    assert stream_variant_for_size(860, 480, main) is StreamVariant.SUB  # well below: back to sub
    assert stream_variant_for_size(900, 500, StreamVariant.SUB) is StreamVariant.SUB


def test_backoff_doubles_to_the_cap_without_jitter() -> None:
    policy = ReconnectPolicy(jitter=0)
    assert [policy.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 10, 10, 10]
    assert policy.attempt == 8


def test_backoff_jitter_stays_in_bounds_and_under_the_cap() -> None:
    policy = ReconnectPolicy(jitter=0.2, rng=random.Random(7))
    delays = [policy.next_delay() for _ in range(40)]
    for attempt, delay in enumerate(delays):
        nominal = policy.nominal_delay(attempt)
        assert nominal * 0.8 <= delay <= min(10.0, nominal * 1.2)
    assert len({round(d, 6) for d in delays[:5]}) == 5  # jittered, not lockstep


def test_backoff_resets_after_a_stable_live_period() -> None:
    policy = ReconnectPolicy(jitter=0, stable_s=10)
    for _ in range(4):
        policy.next_delay()
    policy.mark_live(100.0)
    policy.mark_down(104.0)  # live only 4 s: keeps backing off
    assert policy.next_delay() == 8
    policy.mark_live(200.0)
    policy.mark_live(205.0)  # repeated "live" does not move the start of the live period
    policy.mark_down(211.0)  # live 11 s: stable, start again
    assert policy.next_delay() == 0.5


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(base_s=0)
    with pytest.raises(ValueError):
        ReconnectPolicy(base_s=5, cap_s=1)

"""Media tokens and camera passwords never reach the log."""

from __future__ import annotations

from app.video.backend import loggable_url


def test_tokens_and_passwords_are_masked() -> None:
    assert (
        loggable_url("http://127.0.0.1:8740/media/gtm_SECRET/CAM-1~sub.ts")
        == "http://127.0.0.1:8740/media/***/CAM-1~sub.ts"
    )
    assert loggable_url("rtsp://admin:pw@10.0.0.5:554/stream?token=x") == "rtsp://***@10.0.0.5:554/stream"
    assert loggable_url("http://cam.local/live.ts") == "http://cam.local/live.ts"
    assert loggable_url(None) == ""

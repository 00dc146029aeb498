"""The Qt Multimedia backend: ``QMediaPlayer`` (FFmpeg inside PySide6's wheels) into a ``QVideoWidget``.

It opens everything FFmpeg opens, ``rtsp://`` included, so it is the fallback where libVLC cannot
open a URL. Low latency per docs/STACK.md: ``QPlaybackOptions`` with ``LowLatencyStreaming`` and a
32 KB probe (about 0.45 s glass to glass instead of 1.5–2 s, and streams open faster). A live stream
never ends: ``EndOfMedia`` or a resource error means the connection dropped (``offline``).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QWidget

from app.video.backend import PlayerBackend, PlayerSample
from app.video.choice import BackendName
from app.video.state import PlayerState

__all__ = ["QtBackend"]

_log = logging.getLogger(__name__)

PROBE_SIZE = 32768
NETWORK_TIMEOUT_MS = 5000

_OFFLINE_ERRORS = (QMediaPlayer.Error.ResourceError, QMediaPlayer.Error.NetworkError)


def _low_latency_options(player: QMediaPlayer) -> None:
    """Apply LowLatencyStreaming and a small probe where this Qt has them (``QPlaybackOptions``, 6.10+)."""
    try:
        from PySide6.QtMultimedia import QPlaybackOptions
    except ImportError:  # Qt < 6.10: default buffering
        _log.info("QPlaybackOptions not available: Qt Multimedia plays with default buffering")
        return
    options = QPlaybackOptions()
    options.setPlaybackIntent(QPlaybackOptions.PlaybackIntent.LowLatencyStreaming)
    options.setProbeSize(PROBE_SIZE)
    options.setNetworkTimeout(NETWORK_TIMEOUT_MS)
    player.setPlaybackOptions(options)


class QtBackend(PlayerBackend):
    """Plays a stream with ``QMediaPlayer`` into a ``QVideoWidget`` (see :class:`PlayerBackend`).

    Frames are counted from the widget's ``QVideoSink`` (``videoFrameChanged``); the snapshot is the
    sink's current frame. Qt Multimedia reports neither dropped frames nor bitrate (None in stats).

    Signals: those of :class:`PlayerBackend`.
    """

    name: ClassVar[BackendName] = BackendName.QT
    label: ClassVar[str] = "Qt"

    def __init__(
        self, surface_parent: QWidget | None = None, parent: QObject | None = None, **options: Any
    ) -> None:
        super().__init__(parent, **options)
        self._widget = QVideoWidget(surface_parent)
        self._widget.setMinimumSize(16, 9)
        self._player: QMediaPlayer | None = QMediaPlayer(self)
        _low_latency_options(self._player)
        self._player.setVideoOutput(self._widget)
        self._player.mediaStatusChanged.connect(self._on_media_status)
        self._player.errorOccurred.connect(self._on_error)
        self._widget.videoSink().videoFrameChanged.connect(self._on_frame)
        self._sink_frames = 0

    @property
    def video_widget(self) -> QWidget:
        return self._widget

    @Slot()
    def _on_frame(self) -> None:
        self._sink_frames += 1
        if self._state is PlayerState.CONNECTING and self._sink_frames == 1:
            self._poll_soon()

    @Slot(QMediaPlayer.MediaStatus)
    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            self._stream_down(PlayerState.OFFLINE, "stream ended")
        elif status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._stream_down(PlayerState.ERROR, f"Qt Multimedia cannot play {self._url}")

    @Slot(QMediaPlayer.Error, str)
    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        state = PlayerState.OFFLINE if error in _OFFLINE_ERRORS else PlayerState.ERROR
        self._stream_down(state, message or error.name)

    def _backend_open(self, url: str) -> None:
        assert self._player is not None
        self._player.setSource(QUrl())  # the same URL again must reconnect, not resume
        self._player.setSource(QUrl(url))

    def _backend_play(self) -> None:
        assert self._player is not None
        self._sink_frames = 0
        if self._player.source().isEmpty():
            self._player.setSource(QUrl(self._url))
        self._player.play()

    def _backend_stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())  # drop the connection; play() reopens

    def _backend_release(self) -> None:
        player, self._player = self._player, None
        if player is None:
            return
        self._widget.videoSink().videoFrameChanged.disconnect(self._on_frame)
        player.mediaStatusChanged.disconnect(self._on_media_status)
        player.errorOccurred.disconnect(self._on_error)
        player.stop()
        player.setSource(QUrl())
        player.deleteLater()

    def _sample(self) -> PlayerSample | None:
        return PlayerSample(frames=self._sink_frames)

    def snapshot(self) -> QImage | None:
        if self._player is None or self._state not in (PlayerState.LIVE, PlayerState.STALLED):
            return None
        frame = self._widget.videoSink().videoFrame()
        if not frame.isValid():
            return None
        image = frame.toImage()
        return None if image.isNull() else image

"""The player backend protocol: one live stream played into one widget.

Every backend derives from :class:`PlayerBackend`, which owns the state machine (connecting → live
→ stalled / offline / error), first-frame detection, stall detection and the statistics: a backend
only starts and stops its player and answers :meth:`PlayerBackend._sample` (frames and bytes so far).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from app.video.choice import BackendName
from app.video.state import PlayerState, PlayerStats

__all__ = ["PlayerBackend", "PlayerSample", "PlayerState", "PlayerStats"]

_log = logging.getLogger(__name__)


def loggable_url(url: str | None) -> str:
    """A URL fit for a log: passwords and media tokens (``/media/{token}/…``) replaced by ``***``."""
    if not url:
        return ""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    path = re.sub(r"^/media/[^/]+/", "/media/***/", parts.path)
    return urlunsplit((parts.scheme, netloc, path, "", ""))


@dataclass(frozen=True, slots=True)
class PlayerSample:
    """Cumulative counters a backend reports since ``play()``; None where it cannot tell."""

    frames: int
    dropped_frames: int | None = None
    input_bytes: int | None = None


class PlayerBackend(QObject):
    """A player bound to a video surface widget that it creates (:attr:`video_widget`).

    ``open(url)`` sets the stream, ``play()`` starts it, ``stop()`` stops it (state ``idle``),
    ``snapshot()`` returns the current frame at the stream's size, ``release()`` frees the player
    for good: it must run before the surface widget is destroyed (the tile sees to it).

    States and stalls are decided here: ``connecting`` after ``play()``; ``live`` with the first new
    frame (``firstFrame`` is emitted once per ``play()``); ``stalled`` when no new frame came for
    ``stall_after_s`` while live, back to ``live`` when frames resume; ``offline`` when the stream ends
    or drops, or when no frame came within ``connect_timeout_s``; ``error`` when the backend fails.

    Signals:
        stateChanged(PlayerState): the state changed (emitted on the Qt thread).
        firstFrame(): the first frame after ``play()`` was decoded.
        errorOccurred(str): a backend error, in words for the log and the operator.
        statsUpdated(PlayerStats): a statistics sample, every ``poll_interval_ms`` while playing.
    """

    stateChanged = Signal(object)
    firstFrame = Signal()
    errorOccurred = Signal(str)
    statsUpdated = Signal(object)

    name: ClassVar[BackendName]
    #: Short name shown to the operator on the tile.
    label: ClassVar[str]

    # Faster polling until the first frame, so that ``live`` shows within ~0.1 s of it.
    CONNECTING_POLL_MS = 100

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        stall_after_s: float = 2.0,
        connect_timeout_s: float = 10.0,
        poll_interval_ms: int = 500,
    ) -> None:
        super().__init__(parent)
        self.stall_after_s = stall_after_s
        self.connect_timeout_s = connect_timeout_s
        self.poll_interval_ms = poll_interval_ms
        self._url = ""
        self._state = PlayerState.IDLE
        self._released = False
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._on_poll)
        self._reset_counters()

    # -- public API ----------------------------------------------------------------------------

    @property
    def video_widget(self) -> QWidget:
        """The surface the video is drawn into; put it in a layout."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self._url

    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def released(self) -> bool:
        return self._released

    def open(self, url: str) -> None:
        """Set the stream to play (stops the current one)."""
        self._check_alive()
        if self._state is not PlayerState.IDLE:
            self.stop()
        self._url = url
        self._backend_open(url)

    def play(self) -> None:
        """Start playing the opened URL: ``connecting`` now, ``live`` at the first frame."""
        self._check_alive()
        if not self._url:
            raise RuntimeError("play() before open()")
        self._reset_counters()
        self._started_at = time.monotonic()
        self._set_state(PlayerState.CONNECTING)
        self._poll.start(self.CONNECTING_POLL_MS)
        self._backend_play()

    def stop(self) -> None:
        """Stop playing (state ``idle``); ``play()`` starts the same URL again."""
        if self.released:
            return
        self._poll.stop()
        self._backend_stop()
        self._set_state(PlayerState.IDLE)

    def snapshot(self) -> QImage | None:
        """The current frame at the stream's resolution, or None when there is none."""
        raise NotImplementedError

    def release(self) -> None:
        """Stop and free the player. Idempotent; call it before the surface widget goes away."""
        if self._released:
            return
        self._poll.stop()
        self._backend_release()
        self._released = True
        self._state = PlayerState.IDLE

    # -- for subclasses ------------------------------------------------------------------------

    def _backend_open(self, url: str) -> None:
        raise NotImplementedError

    def _backend_play(self) -> None:
        raise NotImplementedError

    def _backend_stop(self) -> None:
        raise NotImplementedError

    def _backend_release(self) -> None:
        raise NotImplementedError

    def _sample(self) -> PlayerSample | None:
        """Counters since ``play()``; None when the player has none yet."""
        raise NotImplementedError

    def _poll_soon(self) -> None:
        """Sample now (a backend event suggests a frame may have arrived)."""
        if self._poll.isActive():
            QTimer.singleShot(0, self, self._on_poll)

    def _stream_down(self, state: PlayerState, message: str = "") -> None:
        """The stream ended (``offline``) or failed (``error``): stop the player and report it.

        Ignored when not playing, so the several error events a dying stream produces count once.
        """
        if self._state in (PlayerState.IDLE, PlayerState.OFFLINE, PlayerState.ERROR) or self.released:
            return
        _log.info("%s %s: %s %s", self.label, loggable_url(self._url), state.value, message)
        self._poll.stop()
        self._backend_stop()
        if message:
            self.errorOccurred.emit(message)
        self._set_state(state)

    # -- internals -----------------------------------------------------------------------------

    def _check_alive(self) -> None:
        if self.released:
            raise RuntimeError("player already released")

    def _reset_counters(self) -> None:
        self._started_at = time.monotonic()
        self._frames = 0
        self._last_frame_at: float | None = None
        self._prev_sample_at = time.monotonic()
        self._prev_frames = 0
        self._prev_bytes: int | None = None

    def _set_state(self, state: PlayerState) -> None:
        if state is self._state:
            return
        self._state = state
        self.stateChanged.emit(state)

    @Slot()
    def _on_poll(self) -> None:
        if self.released:
            self._poll.stop()
            return
        if self._state in (PlayerState.IDLE, PlayerState.OFFLINE, PlayerState.ERROR):
            return
        sample = self._sample()
        now = time.monotonic()
        if sample is not None and sample.frames > self._frames:
            self._frames = sample.frames
            self._last_frame_at = now
            if self._state is PlayerState.CONNECTING:
                self._poll.start(self.poll_interval_ms)
                self.firstFrame.emit()
                self._set_state(PlayerState.LIVE)
            elif self._state is PlayerState.STALLED:
                self._set_state(PlayerState.LIVE)
        elif self._state is PlayerState.CONNECTING:
            if now - self._started_at > self.connect_timeout_s:
                self._stream_down(PlayerState.OFFLINE, f"no video within {self.connect_timeout_s:g} s")
            return
        elif (
            self._state is PlayerState.LIVE
            and self._last_frame_at is not None
            and now - self._last_frame_at > self.stall_after_s
        ):
            self._set_state(PlayerState.STALLED)
        if self._state is PlayerState.CONNECTING or sample is None:
            return
        self._emit_stats(sample, now)

    def _emit_stats(self, sample: PlayerSample, now: float) -> None:
        span = max(1e-3, now - self._prev_sample_at)
        fps = (sample.frames - self._prev_frames) / span
        kbps: float | None = None
        if sample.input_bytes is not None:
            if self._prev_bytes is not None:
                kbps = max(0, sample.input_bytes - self._prev_bytes) * 8 / 1000 / span
            self._prev_bytes = sample.input_bytes
        self._prev_sample_at = now
        self._prev_frames = sample.frames
        age = None if self._last_frame_at is None else now - self._last_frame_at
        self.statsUpdated.emit(
            PlayerStats(
                fps=fps,
                frames=sample.frames,
                dropped_frames=sample.dropped_frames,
                bitrate_kbps=kbps,
                last_frame_age_s=age,
            )
        )

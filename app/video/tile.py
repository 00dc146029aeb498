"""A video tile: one camera's live picture with a status bar, reconnecting by itself.

The widget is thin: :class:`~app.video.tile_model.TileStateModel` decides the status, the stream
variant and the reconnect schedule; the tile feeds it events, renders it and drives the backend.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QImage, QMouseEvent, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from app.video.backend import PlayerBackend
from app.video.choice import BackendName, ReconnectPolicy, StreamVariant
from app.video.factory import BackendFactory
from app.video.state import PlayerState, PlayerStats
from app.video.tile_model import TileStateModel, TileStatus, TileView

__all__ = ["VideoTile"]

_log = logging.getLogger(__name__)

# Status colours: the dot in the bar, readable on the dark bar and for colour-blind operators
# alongside the status word.
_STATUS_COLOUR: dict[TileStatus, str] = {
    TileStatus.EMPTY: "#6b7280",
    TileStatus.CONNECTING: "#f59e0b",
    TileStatus.LIVE: "#22c55e",
    TileStatus.STALLED: "#f97316",
    TileStatus.OFFLINE: "#ef4444",
    TileStatus.ERROR: "#ef4444",
}
_BAR_STYLE = "QWidget#videoTileBar { background: #1f2937; } QWidget#videoTileBar QLabel { color: #e5e7eb; }"
# A resize must settle this long before the tile switches between main and sub stream.
_SIZE_SETTLE_MS = 300


class VideoTile(QWidget):
    """One camera on a grid or wall: the backend's video surface above a status bar.

    The bar shows the camera name, the status (connecting, live, stalled, offline), the age of the
    last frame when it is not live, and which backend and stream play ("VLC · sub"). A tile that goes
    offline, stalls or fails reconnects with capped backoff (:class:`ReconnectPolicy`). It plays the
    sub-stream and switches to the main stream when it is large on screen (e.g. maximised).

    Call :meth:`close_player` before destroying the tile (``closeEvent`` does it); the libVLC backend
    also releases its player by itself when its native window is about to be destroyed.

    Signals:
        doubleClicked(): the operator double-clicked the tile (the grid maximises it).
        stateChanged(TileStatus): the status shown on the tile changed.
    """

    doubleClicked = Signal()
    stateChanged = Signal(object)

    def __init__(
        self,
        factory: BackendFactory,
        parent: QWidget | None = None,
        *,
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._factory = factory
        self._clock = clock
        self._model = TileStateModel(policy)
        self._backend: PlayerBackend | None = None
        self._shown_status = self._model.status

        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._video_area = QWidget(self)
        self._video_area.setAutoFillBackground(True)
        pal = self._video_area.palette()
        pal.setColor(QPalette.ColorRole.Window, Qt.GlobalColor.black)
        pal.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.lightGray)
        self._video_area.setPalette(pal)
        self._stack = QStackedLayout(self._video_area)
        self._placeholder = QLabel(self._video_area)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        font = self._placeholder.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self._placeholder.setFont(font)
        self._stack.addWidget(self._placeholder)

        self._bar = QWidget(self)
        self._bar.setObjectName("videoTileBar")
        self._bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._bar.setStyleSheet(_BAR_STYLE)
        self._dot = QLabel("●", self._bar)
        self._name = QLabel(self._bar)
        self._name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._status = QLabel(self._bar)
        self._detail = QLabel(self._bar)
        self._badge = QLabel(self._bar)
        self._badge.setToolTip(self.tr("Video backend and stream playing on this tile"))
        bar_layout = QHBoxLayout(self._bar)
        bar_layout.setContentsMargins(6, 2, 6, 2)
        bar_layout.setSpacing(6)
        bar_layout.addWidget(self._dot)
        bar_layout.addWidget(self._name, 1)
        bar_layout.addWidget(self._status)
        bar_layout.addWidget(self._detail)
        bar_layout.addWidget(self._badge)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._video_area, 1)
        layout.addWidget(self._bar)

        self._reconnect_timer = QTimer(self)
        self._reconnect_timer.setSingleShot(True)
        self._reconnect_timer.timeout.connect(self._on_reconnect_timer)
        self._size_timer = QTimer(self)
        self._size_timer.setSingleShot(True)
        self._size_timer.setInterval(_SIZE_SETTLE_MS)
        self._size_timer.timeout.connect(self._on_size_settled)
        # Refreshes the last-frame age and reconnect countdown while the tile is not live.
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._render)
        self._render()

    # -- public API ----------------------------------------------------------------------------

    @property
    def model(self) -> TileStateModel:
        return self._model

    @property
    def backend(self) -> PlayerBackend | None:
        return self._backend

    @property
    def status(self) -> TileStatus:
        return self._model.status

    def set_camera(self, camera_id: str, name: str, url_main: str, url_sub: str) -> None:
        """Play this camera (the sub-stream, or the main stream when the tile is large)."""
        self._reconnect_timer.stop()
        self._model.update_size(*self._physical_size())
        url = self._model.set_camera(camera_id, name, url_main, url_sub)
        if url:
            self._play(url)
        else:
            self._drop_backend()
        self._after_change()

    def clear(self) -> None:
        """Stop playing and show an empty tile."""
        self._reconnect_timer.stop()
        self._drop_backend()
        self._model.clear()
        self._after_change()

    def reconnect(self) -> None:
        """Reconnect now (operator action), forgetting the backoff."""
        url = self._model.url
        if url:
            self._model.reconnect_now()
            self._play(url)
            self._after_change()

    def snapshot(self) -> QImage | None:
        """The current frame at the stream's resolution, or None."""
        return self._backend.snapshot() if self._backend is not None else None

    def close_player(self) -> None:
        """Stop and release the player (before the tile is destroyed). The camera stays assigned."""
        self._reconnect_timer.stop()
        self._size_timer.stop()
        self._tick.stop()
        self._drop_backend()

    # -- Qt events -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_player()
        super().closeEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.doubleClicked.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._model.camera is not None:
            self._size_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._model.camera is not None:
            self._size_timer.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self._badge.setToolTip(self.tr("Video backend and stream playing on this tile"))
            self._render()

    # -- backend -------------------------------------------------------------------------------

    def _physical_size(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return round(self._video_area.width() * ratio), round(self._video_area.height() * ratio)

    def _play(self, url: str) -> None:
        name = self._factory.choose(url)
        if self._backend is not None and self._backend.name is not name:
            self._drop_backend()
        if self._backend is None:
            self._backend = self._make_backend(name)
        self._model.set_backend(name)
        self._model.on_opened()
        self._backend.open(url)
        self._backend.play()

    def _make_backend(self, name: BackendName) -> PlayerBackend:
        backend = self._factory.create(name, self._video_area)
        backend.stateChanged.connect(self._on_player_state)
        backend.errorOccurred.connect(self._on_player_error)
        backend.statsUpdated.connect(self._on_player_stats)
        surface = backend.video_widget
        surface.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._stack.addWidget(surface)  # shown by _render() once there is a picture
        return backend

    def _drop_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is None:
            return
        backend.stateChanged.disconnect(self._on_player_state)
        backend.errorOccurred.disconnect(self._on_player_error)
        backend.statsUpdated.disconnect(self._on_player_stats)
        backend.release()  # before its surface goes
        surface = backend.video_widget
        self._stack.removeWidget(surface)
        surface.hide()
        surface.deleteLater()
        backend.setParent(self)  # Qt owns it now: deleted after any event already queued for it
        backend.deleteLater()
        self._stack.setCurrentWidget(self._placeholder)
        self._model.set_backend(None)

    # -- slots ---------------------------------------------------------------------------------

    @Slot(object)
    def _on_player_state(self, state: PlayerState) -> None:
        self._model.on_player_state(state, self._clock())
        self._after_change()

    @Slot(str)
    def _on_player_error(self, message: str) -> None:
        self._model.on_error(message)
        cam = self._model.camera
        _log.info("tile %s: %s", cam.camera_id if cam else "-", message)

    @Slot(object)
    def _on_player_stats(self, stats: PlayerStats) -> None:
        self._model.on_stats(stats, self._clock())
        self._render()

    @Slot()
    def _on_reconnect_timer(self) -> None:
        url = self._model.take_reconnect(self._clock())
        if url:
            self._play(url)
        self._after_change()

    @Slot()
    def _on_size_settled(self) -> None:
        if self._model.update_size(*self._physical_size()):
            url = self._model.url
            if url:
                self._reconnect_timer.stop()
                self._play(url)
        self._after_change()

    # -- rendering -----------------------------------------------------------------------------

    def _after_change(self) -> None:
        now = self._clock()
        at = self._model.reconnect_at
        if at is None:
            self._reconnect_timer.stop()
        elif not self._reconnect_timer.isActive():
            self._reconnect_timer.start(max(0, round((at - now) * 1000)))
        status = self._model.status
        if status in (TileStatus.EMPTY, TileStatus.LIVE):
            self._tick.stop()
        elif not self._tick.isActive():
            self._tick.start()
        self._render()
        if status is not self._shown_status:
            self._shown_status = status
            self.stateChanged.emit(status)

    @Slot()
    def _render(self) -> None:
        view = self._model.view(self._clock())
        _set_text(self._name, view.camera_name or self.tr("No camera"))
        if self._name.toolTip() != view.camera_name:
            self._name.setToolTip(view.camera_name)
        _set_text(self._status, self._status_text(view.status))
        _set_text(self._detail, self._detail_text(view))
        _set_text(self._badge, self._badge_text(view))
        colour = _STATUS_COLOUR[view.status]
        style = f"color: {colour};"
        if self._dot.styleSheet() != style:
            self._dot.setStyleSheet(style)
        # The picture while there is one (a stalled stream keeps its frozen frame), else a message.
        backend = self._backend
        if backend is not None and view.status in (TileStatus.LIVE, TileStatus.STALLED):
            shown: QWidget = backend.video_widget
        else:
            shown = self._placeholder
            _set_text(self._placeholder, self._placeholder_text(view.status))
            if self._placeholder.toolTip() != view.error:
                self._placeholder.setToolTip(view.error)
        if self._stack.currentWidget() is not shown:
            self._stack.setCurrentWidget(shown)

    def _placeholder_text(self, status: TileStatus) -> str:
        if status is TileStatus.CONNECTING:
            return self.tr("Connecting…")
        if status is TileStatus.OFFLINE:
            return self.tr("Camera offline")
        if status is TileStatus.ERROR:
            return self.tr("Cannot play this camera")
        if status is TileStatus.EMPTY:
            return self.tr("No camera")
        return ""

    def _status_text(self, status: TileStatus) -> str:
        if status is TileStatus.CONNECTING:
            return self.tr("Connecting…")
        if status is TileStatus.LIVE:
            return self.tr("Live")
        if status is TileStatus.STALLED:
            return self.tr("Stalled")
        if status is TileStatus.OFFLINE:
            return self.tr("Offline")
        if status is TileStatus.ERROR:
            return self.tr("Error")
        return ""

    def _detail_text(self, view: TileView) -> str:
        if view.status in (TileStatus.EMPTY, TileStatus.LIVE):
            return ""
        parts: list[str] = []
        if view.last_frame_age_s is not None:
            parts.append(self.tr("last frame {age} s ago").format(age=int(view.last_frame_age_s)))
        if view.reconnect_in_s is not None:
            parts.append(self.tr("retry in {secs} s").format(secs=max(1, round(view.reconnect_in_s))))
        return " · ".join(parts)

    def _badge_text(self, view: TileView) -> str:
        if view.backend is None:
            return ""
        backend = "VLC" if view.backend is BackendName.VLC else "Qt"
        variant = self.tr("main") if view.variant is StreamVariant.MAIN else self.tr("sub")
        return f"{backend} · {variant}"


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)

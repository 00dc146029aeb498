"""The wall display's window: fullscreen, no window frame, a slim header (wall name, incident badge, a
discreet notice, the clock) over a grid of live camera tiles and, during an incident takeover, the map.

Nothing here needs a mouse or a keyboard: errors are logged and shown as a notice in the header, never
as a dialog. Each camera tile is supervised: a tile that stays down without a reconnect scheduled is
restarted, and a player that raises is replaced by a new tile. Tiles of cameras that stay on the wall
across a layout change keep playing (they move, they do not reconnect).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app.console.wall.model import Cell, LinkState, MapState, Notice, WallDisplayModel, WallView, format_clock
from app.video.choice import ReconnectPolicy
from app.video.factory import BackendFactory
from app.video.tile import VideoTile
from app.video.tile_model import TileStatus

__all__ = ["WallCameraCell", "WallMapCell", "WallWindow"]

_log = logging.getLogger(__name__)

# A tile that is down with no reconnect scheduled (or one overdue by this long) is restarted.
STUCK_S = 20.0
SUPERVISE_MS = 5_000
# A new layout is shown this long after the old one was cleared (see ``_apply_layout``).
REVEAL_MS = 60
# Every camera tile down this long: ask for new media access (a revoked or expired grant looks like this).
ALL_DOWN_S = 60.0
HEADER_STYLE = """
QWidget#wallHeader { background: #0b0f14; border-bottom: 1px solid #1f2937; }
QLabel#wallName { color: #f3f4f6; font-weight: bold; }
QLabel#wallClock { color: #e5e7eb; }
QLabel#wallNotice { color: #fbbf24; }
QLabel#wallBadge { color: white; background: #b91c1c; border-radius: 4px; padding: 1px 8px; font-weight: bold; }
QLabel#wallIncident { color: #fca5a5; }
"""
WALL_MAP_STYLE_JS = """(function () {
  var s = document.createElement("style");
  s.textContent = ".gt-draw-bar, .leaflet-control-zoom, .leaflet-control-layers, .gt-notice"
    + " { display: none !important; }";
  document.head.appendChild(s);
  return "ok";
})()"""
_DOWN = (TileStatus.OFFLINE, TileStatus.ERROR, TileStatus.STALLED, TileStatus.CONNECTING)

# (main URL, sub URL) for a camera, or None while there is no media access.
UrlProvider = Callable[[str], "tuple[str, str] | None"]


def _dark(widget: QWidget, colour: str = "#000000") -> None:
    widget.setAutoFillBackground(True)
    pal = widget.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor(colour))
    pal.setColor(QPalette.ColorRole.WindowText, QColor("#9ca3af"))
    widget.setPalette(pal)


class WallCameraCell(QFrame):
    """One camera on the wall: a :class:`VideoTile`, restarted or replaced when its player misbehaves.

    Signals:
        statusChanged(): the tile's status changed (or the tile was replaced).
    """

    statusChanged = Signal()

    def __init__(
        self,
        factory: BackendFactory,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        policy: Callable[[], ReconnectPolicy] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wallCameraCell")
        self._policy = policy
        self.setStyleSheet("QFrame#wallCameraCell { background: black; border: 1px solid #111827; }")
        self._factory = factory
        self._clock = clock
        self.camera_id: str | None = None
        self.name = ""
        self.urls: tuple[str, str] | None = None
        self.replacements = 0
        self.restarts = 0
        self._stuck_since: float | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(1, 1, 1, 1)
        self._layout.setSpacing(0)
        self.notice = QLabel(self)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #9ca3af;")
        self.notice.hide()
        self.tile = self._new_tile()
        self._layout.addWidget(self.notice)

    # ------------------------------------------------------------------ API

    @property
    def status(self) -> TileStatus:
        return self.tile.status

    def show_camera(self, camera_id: str, name: str, urls: tuple[str, str] | None) -> None:
        """Play this camera (again only when the camera, its name or its URLs changed)."""
        if camera_id == self.camera_id and name == self.name and urls == self.urls:
            return
        self.camera_id, self.name, self.urls = camera_id, name, urls
        self._stuck_since = None
        if urls is None:
            self._guard(self.tile.clear)
            self.notice.setText(self.tr("{name}: waiting for media access from the engine").format(name=name))
            self.notice.show()
            return
        self.notice.hide()
        self._guard(lambda: self.tile.set_camera(camera_id, name, urls[0], urls[1]))

    def supervise(self) -> None:
        """Called every few seconds: restart a tile that is stuck down, replace one that cannot restart."""
        if self.camera_id is None or self.urls is None:
            self._stuck_since = None
            return
        now = self._clock()
        due = self.tile.model.reconnect_at
        # Down with no reconnect scheduled (or one long overdue), or "connecting" for longer than any player
        # takes to give up (a player that raised half-way through opening leaves the tile like that).
        stuck = self.tile.status in _DOWN and (due is None or now - due > STUCK_S)
        if not stuck:
            self._stuck_since = None
            return
        if self._stuck_since is None:
            self._stuck_since = now
            return
        if now - self._stuck_since < STUCK_S:
            return
        self._stuck_since = None
        self.restarts += 1
        _log.warning("wall tile %s stuck %s; restarting it", self.camera_id, self.tile.status.value)
        self._guard(self.tile.reconnect)

    def clear(self) -> None:
        """No camera any more: stop the player (the cell waits, hidden, for the next camera)."""
        self.camera_id, self.name, self.urls = None, "", None
        self._stuck_since = None
        self.notice.hide()
        self._guard(self.tile.clear)

    def close_player(self) -> None:
        """Stop and release the player (before the widgets go)."""
        try:
            self.tile.close_player()
        except Exception:
            _log.exception("wall tile %s: releasing the player failed", self.camera_id)

    # ------------------------------------------------------------------ internals

    def _new_tile(self) -> VideoTile:
        tile = VideoTile(self._factory, self, policy=self._policy() if self._policy else None)
        tile.stateChanged.connect(self._on_tile_state)
        self._layout.insertWidget(0, tile, 1)
        return tile

    def _guard(self, action: Callable[[], None]) -> None:
        """Run a tile action; a player that raises is thrown away with its tile, and a new tile tries once."""
        try:
            action()
            return
        except Exception:
            _log.exception("wall tile %s: the player failed; replacing it", self.camera_id)
        self.replace_tile()

    def replace_tile(self) -> None:
        """A fresh tile (and player) for the same camera."""
        old = self.tile
        try:
            old.stateChanged.disconnect(self._on_tile_state)
        except (RuntimeError, TypeError):
            pass
        self.close_player()
        self._layout.removeWidget(old)
        old.hide()
        old.deleteLater()
        self.replacements += 1
        self.tile = self._new_tile()
        self.tile.show()
        if self.camera_id is not None and self.urls is not None:
            try:
                self.tile.set_camera(self.camera_id, self.name, self.urls[0], self.urls[1])
            except Exception:
                _log.exception(
                    "wall tile %s: the new player failed too; the supervisor retries", self.camera_id
                )
        self.statusChanged.emit()

    @Slot(object)
    def _on_tile_state(self, _status: object) -> None:
        self.statusChanged.emit()


class WallMapCell(QWidget):
    """The map cell: a :class:`MapView` built once the map page exists, showing the incident and its cameras."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _dark(self, "#0b0f14")
        self.view: Any = None  # MapView, made on first use (QtWebEngine is heavy)
        self._stack = QStackedLayout(self)
        self.placeholder = QLabel(self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack.addWidget(self.placeholder)
        self._page: tuple[Path, Any] | None = None
        self._basemaps: tuple[list[Any], str] = ([], "")
        self._state: dict[str, Any] = {}
        self._incident_id: str | None = None
        self.ready = False
        self.retranslate()

    def set_page(self, page: Path, basemap: Any, basemaps: tuple[list[Any], str] = ([], "")) -> None:
        """The page, its built-in basemap, and the console's basemap list with the one to show."""
        self._page = (page, basemap)
        self._basemaps = basemaps

    def ensure_view(self) -> bool:
        """Make the map view if the page is ready; True when there is one."""
        if self.view is None and self._page is not None:
            from app.console.map.widget import MapView

            self.view = MapView(self._page[0], self._page[1], self, start_drags=False)
            self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.view.ready.connect(self._on_map_ready)
            sources, chosen = self._basemaps
            if sources:  # the console's list: the same basemaps the operators see
                self.view.set_basemaps(sources, chosen or None)
            self._stack.addWidget(self.view)
            self._stack.setCurrentWidget(self.view)
            if self._state:
                self.show_state(**self._state)
        return self.view is not None

    def show_state(
        self,
        cameras: list[dict[str, Any]],
        incident: dict[str, Any] | None,
        center: tuple[float, float] | None,
        zoom: int = 17,
    ) -> None:
        """What the map shows: these cameras (highlighted), the incident (if any), centred on ``center``."""
        self._state = {"cameras": cameras, "incident": incident, "center": center, "zoom": zoom}
        if self.view is None:
            return
        v = self.view
        v.set_cameras(cameras)
        v.select_cameras([c["id"] for c in cameras])
        new_id = str(incident["id"]) if incident is not None else None
        if self._incident_id is not None and self._incident_id != new_id:
            v.remove_incident(self._incident_id)
        self._incident_id = new_id
        if incident is not None:
            v.upsert_incident(incident)
        if center is not None:
            v.fly_to(center[0], center[1], zoom)

    @Slot()
    def _on_map_ready(self) -> None:
        # Nobody clicks a wall: no zoom, layer or drawing controls, and no notices meant for an operator.
        if self.view is not None:
            self.view.run_js(WALL_MAP_STYLE_JS)
            self.ready = True

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.placeholder.setText(self.tr("Map loading…"))


class WallWindow(QWidget):
    """The wall: header over the tiles, rendering a :class:`WallDisplayModel`.

    Call :meth:`render` after the model changed, :meth:`refresh_media` after the media grant changed,
    :meth:`close_players` before the window is destroyed.

    Signals:
        statusChanged(): what the wall shows changed (layout, a tile's status, the notice).
        closing(): the window is closing (the process shuts down).
        mediaSuspect(): no tile has played for ``ALL_DOWN_S``: the media grant may be gone (renew it).
    """

    statusChanged = Signal()
    closing = Signal()
    mediaSuspect = Signal()

    def __init__(
        self,
        model: WallDisplayModel,
        factory: BackendFactory,
        urls: UrlProvider,
        names: Callable[[str], str],
        *,
        language: str = "en",
        policy: Callable[[], ReconnectPolicy] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("goldentimeWall")
        self._policy = policy
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        _dark(self)
        self.model = model
        self.factory = factory
        self._urls = urls
        self._names = names
        self.language = language
        self.camera_cells: dict[str, WallCameraCell] = {}
        self._spare_cells: list[WallCameraCell] = []
        self._empty_cells: list[QLabel] = []
        self.map_cell: WallMapCell | None = None
        self._map_page: tuple[Path, Any, tuple[list[Any], str]] | None = None
        self._map_state: dict[str, Any] | None = None
        self._incident_title = ""
        self._shown: WallView | None = None
        self._all_down_since: float | None = None

        # header
        self.header = QWidget(self)
        self.header.setObjectName("wallHeader")
        self.header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.header.setStyleSheet(HEADER_STYLE)
        self.name_label = QLabel(self.header)
        self.name_label.setObjectName("wallName")
        self.badge = QLabel(self.header)
        self.badge.setObjectName("wallBadge")
        self.badge.hide()
        self.incident_label = QLabel(self.header)
        self.incident_label.setObjectName("wallIncident")
        self.notice_label = QLabel(self.header)
        self.notice_label.setObjectName("wallNotice")
        self.notice_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clock_label = QLabel(self.header)
        self.clock_label.setObjectName("wallClock")
        for label, scale in (
            (self.name_label, 1.6),
            (self.clock_label, 1.6),
            (self.badge, 1.25),
            (self.incident_label, 1.35),
            (self.notice_label, 1.25),
        ):
            f = QFont(label.font())
            f.setPointSizeF(max(10.0, f.pointSizeF() * scale))
            label.setFont(f)
        clock_font = QFont(self.clock_label.font())
        clock_font.setStyleHint(QFont.StyleHint.Monospace)
        clock_font.setFeature(QFont.Tag("tnum"), 1)
        self.clock_label.setFont(clock_font)
        hl = QHBoxLayout(self.header)
        hl.setContentsMargins(16, 6, 16, 6)
        hl.setSpacing(12)
        hl.addWidget(self.name_label)
        hl.addWidget(self.badge)
        hl.addWidget(self.incident_label)
        hl.addWidget(self.notice_label, 1)
        hl.addWidget(self.clock_label)

        # body: the grid, or the waiting message
        self.body = QWidget(self)
        _dark(self.body)
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.waiting = QLabel(self)
        self.waiting.setObjectName("wallWaiting")
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet("color: #6b7280;")
        wf = QFont(self.waiting.font())
        wf.setPointSizeF(wf.pointSizeF() * 1.6)
        self.waiting.setFont(wf)
        self._body_stack = QStackedLayout()
        self._body_stack.addWidget(self.waiting)
        self._body_stack.addWidget(self.body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addLayout(self._body_stack, 1)

        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock)
        self._clock.start()
        self._supervisor = QTimer(self)
        self._supervisor.setInterval(SUPERVISE_MS)
        self._supervisor.timeout.connect(self._on_supervise)
        self._supervisor.start()
        self._reveal_timer = QTimer(self)
        self._reveal_timer.setSingleShot(True)
        self._reveal_timer.setInterval(REVEAL_MS)
        self._reveal_timer.timeout.connect(self._reveal)
        self.setCursor(Qt.CursorShape.BlankCursor)  # a wall has no pointer on it
        self._on_clock()
        self.render()

    # ------------------------------------------------------------------ API

    def render(self) -> None:
        """Make the widgets match the model (layout, header)."""
        view = self.model.view
        if view != self._shown:
            self._apply_layout(view)
            self._shown = view
        self._render_header()
        self.statusChanged.emit()

    @Slot()
    def refresh_media(self) -> None:
        """New media URLs (a new grant): tiles whose URL changed reconnect with it."""
        self._refresh_cameras()

    @Slot()
    def refresh_names(self) -> None:
        self._refresh_cameras()
        self._render_header()

    def set_map_page(self, page: Path, basemap: Any, basemaps: tuple[list[Any], str] = ([], "")) -> None:
        """The map page is built (off the Qt thread): the map cell can show it (with the console's basemap
        list, ``(sources, chosen)``)."""
        self._map_page = (page, basemap, basemaps)
        if self.map_cell is not None:
            self.map_cell.set_page(page, basemap, basemaps)
            if self.map_cell.isVisible() or (self._shown is not None and self._shown.show_map):
                self.map_cell.ensure_view()

    def set_map_state(self, state: MapState) -> None:
        """What the map cell shows (the incident, its cameras) and the incident's title in the header."""
        self._map_state = {
            "cameras": list(state.cameras),
            "incident": state.incident,
            "center": state.center,
            "zoom": state.zoom,
        }
        self._incident_title = state.incident_title
        if self.map_cell is not None:
            self.map_cell.show_state(**self._map_state)
        self._render_header()

    def tile_states(self) -> dict[str, str]:
        return {cid: str(cell.status) for cid, cell in self.camera_cells.items()}

    def status(self) -> dict[str, Any]:
        """The model's status plus each tile's state and the screen geometry (the status file)."""
        out = self.model.status()
        tiles = self.tile_states()
        for c in out["cells"]:
            if c["camera_id"] is not None:
                c["tile"] = tiles.get(c["camera_id"])
        out["map_ready"] = bool(self.map_cell is not None and self.map_cell.ready)
        out["notice_text"] = self.notice_label.text()
        g = self.geometry()
        out["geometry"] = [g.x(), g.y(), g.width(), g.height()]
        out["fullscreen"] = self.isFullScreen()
        return out

    def close_players(self) -> None:
        """Stop timers and release every player (before the widgets are destroyed)."""
        self._clock.stop()
        self._supervisor.stop()
        self._reveal_timer.stop()
        for cell in [*self.camera_cells.values(), *self._spare_cells]:
            cell.close_player()

    # ------------------------------------------------------------------ layout

    def _apply_layout(self, view: WallView | None) -> None:
        for i in reversed(range(self.grid.count())):
            item = self.grid.takeAt(i)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
        if view is None:
            for cid in list(self.camera_cells):
                self._retire(cid)
            self._body_stack.setCurrentWidget(self.waiting)
            return
        self._body_stack.setCurrentWidget(self.body)
        keep = set(view.camera_ids)
        for cid in [c for c in self.camera_cells if c not in keep]:
            self._retire(cid)
        empties = iter(self._empty_pool(sum(1 for c in view.cells if c.kind == "empty")))
        for cell in view.cells:
            widget = self._widget_for(cell, empties)
            self.grid.addWidget(widget, cell.row, cell.col, cell.row_span, cell.col_span)
        for r in range(4):
            self.grid.setRowStretch(r, 1 if r < view.side else 0)
            self.grid.setColumnStretch(r, 1 if r < view.side else 0)
        if view.show_map and self.map_cell is not None:
            self.map_cell.ensure_view()
        # Shown once the emptied grid has been painted black: a video window that moves exposes what was on
        # screen at its new place, and libVLC paints only the picture, not its letterbox borders.
        self._reveal_timer.start()

    @Slot()
    def _reveal(self) -> None:
        for i in range(self.grid.count()):
            item = self.grid.itemAt(i)
            w = item.widget() if item is not None else None
            if w is not None:
                w.show()
        self.statusChanged.emit()

    def _widget_for(self, cell: Cell, empties: Any) -> QWidget:
        if cell.kind == "map":
            if self.map_cell is None:
                self.map_cell = WallMapCell(self.body)
                if self._map_page is not None:
                    self.map_cell.set_page(*self._map_page)
                if self._map_state is not None:
                    self.map_cell.show_state(**self._map_state)
            return self.map_cell
        if cell.kind == "camera" and cell.camera_id is not None:
            cam = self.camera_cells.get(cell.camera_id)
            if cam is None:
                cam = self._spare_cells.pop() if self._spare_cells else self._new_camera_cell()
                self.camera_cells[cell.camera_id] = cam
            cam.show_camera(cell.camera_id, self._names(cell.camera_id), self._urls(cell.camera_id))
            return cam
        label: QLabel = next(empties)
        return label

    def _new_camera_cell(self) -> WallCameraCell:
        cell = WallCameraCell(self.factory, self.body, policy=self._policy)
        cell.statusChanged.connect(self.statusChanged)
        return cell

    def _retire(self, camera_id: str) -> None:
        """A camera left the wall: stop its player; keep the cell for the next camera."""
        cell = self.camera_cells.pop(camera_id)
        cell.hide()
        cell.clear()
        self._spare_cells.append(cell)

    def _empty_pool(self, n: int) -> list[QLabel]:
        while len(self._empty_cells) < n:
            label = QLabel(self.body)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: #05070a; color: #374151; border: 1px solid #111827;")
            label.setText(self.tr("No camera"))
            self._empty_cells.append(label)
        return self._empty_cells[:n]

    def _refresh_cameras(self) -> None:
        for cid, cell in self.camera_cells.items():
            cell.show_camera(cid, self._names(cid), self._urls(cid))

    # ------------------------------------------------------------------ header

    def _render_header(self) -> None:
        m = self.model
        view = m.view
        self.name_label.setText(m.title)
        incident = view is not None and view.mode == "incident"
        self.badge.setVisible(incident)
        self.badge.setText(self.tr("INCIDENT"))
        if incident and view is not None:
            self.incident_label.setText(self._incident_title or (view.incident_id or ""))
            self.incident_label.show()
        else:
            self.incident_label.hide()
        text = self._notice_text(m.notice())
        if self.notice_label.text() != text:
            self.notice_label.setText(text)
        self.waiting.setText(self._waiting_text())

    def _notice_text(self, notice: Notice | None) -> str:
        if notice is None:
            return ""
        texts = {
            Notice.CONNECTING: self.tr("Connecting to the engine…"),
            Notice.UNREACHABLE: self.tr("Engine unreachable, retrying…"),
            Notice.RELOGIN: self.tr("Session expired, logging in again…"),
            Notice.LOGIN_REFUSED: self.tr("The engine refused the wall key; retrying"),
            Notice.NO_ACCOUNT: self.tr("No wall key configured (walls add, then --key-file)"),
        }
        return texts.get(notice, "")  # "waiting for a layout" is said in the body, not twice

    def _waiting_text(self) -> str:
        m = self.model
        if m.missing and m.link is LinkState.CONNECTED:
            return self.tr(
                "Waiting for a layout for wall {id}.\nSend cameras or an incident to this wall from an operator console."
            ).format(id=m.wall_id)
        return self.tr("Wall {id}: connecting to the engine…").format(id=m.wall_id)

    # ------------------------------------------------------------------ slots and events

    @Slot()
    def _on_clock(self) -> None:
        self.clock_label.setText(format_clock(datetime.now().astimezone(), self.language))

    @Slot()
    def _on_supervise(self) -> None:
        cells = [c for c in self.camera_cells.values() if c.urls is not None]
        for cell in cells:
            cell.supervise()
        # Every tile down for a long time, while the engine answers: perhaps the media grant is gone.
        down = bool(cells) and all(c.status in (TileStatus.OFFLINE, TileStatus.ERROR) for c in cells)
        now = time.monotonic()
        if not down:
            self._all_down_since = None
        elif self._all_down_since is None:
            self._all_down_since = now
        elif now - self._all_down_since >= ALL_DOWN_S:
            self._all_down_since = now
            _log.warning("wall: no tile can play; asking the engine for new media access")
            self.mediaSuspect.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_players()
        self.closing.emit()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            for label in self._empty_cells:
                label.setText(self.tr("No camera"))
            self._render_header()

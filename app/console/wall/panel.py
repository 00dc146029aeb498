"""The console's wall control panel: a dock that lists the video walls, mirrors each one's layout in
miniature, and drives them through the engine.

Drop a camera on a miniature cell (MIME ``application/x-goldentime-camera-id``, from the map, the camera
list or a video tile) to put it there; pick a grid; save the selected wall's layout as a preset (kept in
the console's settings) and apply it to any wall; send an incident to a wall (its cameras and the map)
and release the wall back to what it showed before. Everything goes through the engine and comes back
as ``wall.updated``, so every console shows the same walls.

:class:`WallControl` is the bridge to the engine (owns its tasks and its live feed; no widgets);
:class:`WallControlPanel` is the dock widget.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.client import EngineClient, EngineError, EngineUnreachable, FeedState, LiveFeed, NotAuthenticated
from app.client.live import Backoff
from app.client.walls import WallsApi
from app.console.camera_drag import CameraDropTarget
from app.console.tasks import OwnedTasks
from app.console.wall.control import PRESET_NAME_MAX, WallControlModel
from app.console.wall.model import GRIDS, Cell, grid_side
from app.formats.api import LiveEvent, WallLayoutIn, WallOut

__all__ = ["WallControl", "WallControlPanel", "install_wall_control"]

_log = logging.getLogger(__name__)
PRESETS_KEY = "wall_control/presets"
SELECTED_KEY = "wall_control/selected"
AREA_TARGET_KEY = "wall_control/area_target"
UNAUTHORIZED_RETRY_MS = 15_000
MINI_HEIGHT = 118


class WallControl(QObject):
    """The panel's link to the engine: wall list, layout changes, takeover and release, and its own live
    feed (on the console's session: ``client.token``). Every task is owned and cancelled by :meth:`aclose`.

    Signals:
        changed(): the walls changed (a load, an answer, or ``wall.updated`` from any console).
        failed(str): an action failed (message for the operator).
        done(str): an action succeeded (message for the operator).
    """

    changed = Signal()
    failed = Signal(str)
    done = Signal(str)

    def __init__(
        self,
        client: EngineClient,
        model: WallControlModel | None = None,
        *,
        feed_backoff: Backoff | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.api = WallsApi(client)
        self.model = model or WallControlModel()
        self._tasks = OwnedTasks("wall control", _log)
        self._closing = False
        self.loads = 0
        self.feed = LiveFeed(
            client.base_url,
            lambda: client.token,
            on_event=self._on_live_event,
            on_resync=self._on_resync,
            on_state=self._on_feed_state,
            backoff=feed_backoff,
            verify=getattr(client, "verify", True),
        )
        self._auth_timer = QTimer(self)
        self._auth_timer.setInterval(UNAUTHORIZED_RETRY_MS)
        self._auth_timer.timeout.connect(self.feed.reconnect_now)

    # ------------------------------------------------------------------ lifetime

    def start(self) -> None:
        """Follow the walls live (call once the console is logged in)."""
        self.feed.start()

    async def aclose(self) -> None:
        self._closing = True
        self._auth_timer.stop()
        await self.feed.stop()
        await self._tasks.aclose()

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name)

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    # ------------------------------------------------------------------ actions (each returns its task)

    def refresh(self) -> asyncio.Task[Any]:
        return self.spawn(self._guard(self._load()), name="walls-load")

    def put_layout(self, wall_id: str, layout: WallLayoutIn, name: str | None = None) -> asyncio.Task[Any]:
        async def run() -> None:
            self._apply(await self.api.put_wall(wall_id, layout, name=name))

        return self.spawn(self._guard(run()), name="walls-put")

    def send_incident(self, wall_id: str, incident_id: str) -> asyncio.Task[Any]:
        """Incident takeover: the incident's cameras and the map on the wall (the layout before is kept)."""

        async def run() -> None:
            wall = self._apply(await self.api.takeover(wall_id, incident_id))
            self.done.emit(self.tr("Incident sent to {wall}.").format(wall=wall.name))

        return self.spawn(self._guard(run()), name="walls-takeover")

    def send_cameras(self, wall_id: str, layout: WallLayoutIn) -> asyncio.Task[Any]:
        """A drawn area's cameras on a wall (its layout replaced; the engine tells every console)."""

        async def run() -> None:
            wall = self._apply(await self.api.put_wall(wall_id, layout))
            n = len([t for t in layout.tiles if t])
            self.done.emit(
                self.tr("%n camera(s) of the drawn area sent to {wall}.", "", n).format(wall=wall.name)
            )

        return self.spawn(self._guard(run()), name="walls-area")

    def release(self, wall_id: str) -> asyncio.Task[Any]:
        """Back to the layout before the takeover."""

        async def run() -> None:
            wall = self._apply(await self.api.release(wall_id))
            self.done.emit(self.tr("{wall} is back to its previous layout.").format(wall=wall.name))

        return self.spawn(self._guard(run()), name="walls-release")

    # ------------------------------------------------------------------ internals

    async def _load(self) -> None:
        walls = await self.api.list_walls()
        self.model.reset(walls)
        self.loads += 1
        self.changed.emit()

    def _apply(self, wall: WallOut) -> WallOut:
        if self.model.upsert(wall):
            self.changed.emit()
        return wall

    async def _guard(self, coro: Awaitable[None]) -> None:
        try:
            await coro
        except EngineUnreachable as exc:
            _log.info("wall action failed: %s", exc)
            self.failed.emit(
                self.tr("The engine is unreachable; the wall was not changed. ({detail})").format(
                    detail=exc.detail
                )
            )
        except NotAuthenticated:
            self.failed.emit(self.tr("The session has expired; please log in again."))
        except EngineError as exc:
            _log.info("wall action refused: %s", exc)
            self.failed.emit(
                self.tr("The engine refused the wall change: {detail}").format(detail=exc.message)
            )

    def _on_resync(self) -> None:
        if not self._closing:
            self.refresh()

    def _on_live_event(self, event: LiveEvent) -> None:
        if event.type == "wall.updated" and self.model.apply_event(event):
            self.changed.emit()

    def _on_feed_state(self, state: FeedState, reason: str) -> None:
        if self._closing:
            return
        if state is FeedState.UNAUTHORIZED:
            self._auth_timer.start()  # the console logs in again; pick its new token up
            return
        self._auth_timer.stop()
        if state is FeedState.CONNECTED and self.feed.connections > 1:
            self.refresh()  # back after an outage: read the walls again rather than trust the gap


class _MiniCell(CameraDropTarget, QLabel):
    """One miniature cell: a camera's name, "Map", or empty; a drop target for cameras.

    Signals:
        cameraDropped(int, str): a camera was dropped here (cell index, camera id).
        clearRequested(int): "remove from the wall".
    """

    cameraDropped = Signal(int, str)
    clearRequested = Signal(int)

    def __init__(self, cell: Cell, text: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cell = cell
        self.setObjectName(f"miniCell{cell.index}")
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setText(text)
        self.setToolTip(tooltip)
        self._drop_highlight(False)

    def _drop_highlight(self, on: bool) -> None:
        kind = self.cell.kind
        bg = {"camera": "#1e3a5f", "map": "#14532d", "empty": "#111827"}[kind]
        fg = {"camera": "#e5e7eb", "map": "#bbf7d0", "empty": "#4b5563"}[kind]
        border = "#facc15" if on else "#374151"
        self.setStyleSheet(
            f"QLabel {{ background: {bg}; color: {fg}; border: 1px solid {border}; font-size: 8pt; }}"
        )

    def _camera_dropped(self, camera_id: str) -> None:
        self.cameraDropped.emit(self.cell.index, camera_id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.cell.kind == "empty":
            return
        menu = QMenu(self)
        remove = QAction(self.tr("Remove from the wall"), menu)
        remove.triggered.connect(lambda: self.clearRequested.emit(self.cell.index))
        menu.addAction(remove)
        menu.exec(event.globalPos())
        menu.deleteLater()


class _WallCard(QFrame):
    """One wall: its name, mode and a miniature of its layout. Click to select it.

    Signals:
        selected(str): the card was clicked (wall id).
        cameraDropped(str, int, str): wall id, cell index, camera id.
        clearRequested(str, int): wall id, cell index.
    """

    selected = Signal(str)
    cameraDropped = Signal(str, int, str)
    clearRequested = Signal(str, int)

    def __init__(self, wall_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wall_id = wall_id
        self.setObjectName("wallCard")
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.grid_host = QWidget(self)
        self.grid_host.setFixedHeight(MINI_HEIGHT)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.cells: list[_MiniCell] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.grid_host)
        self._key: tuple[Any, ...] | None = None
        self.set_selected(False)

    def set_selected(self, on: bool) -> None:
        border = "#2563eb" if on else "#374151"
        self.setStyleSheet(f"QFrame#wallCard {{ border: 1px solid {border}; border-radius: 4px; }}")

    def render(self, wall: WallOut, cells: tuple[Cell, ...], names: Callable[[str], str], title: str) -> None:
        self.title.setText(title)
        key = (wall.grid, cells, tuple(names(c.camera_id) for c in cells if c.camera_id))
        if key == self._key:
            return
        self._key = key
        for c in self.cells:
            self.grid.removeWidget(c)
            c.deleteLater()
        self.cells = []
        side = grid_side(wall.grid)
        for cell in cells:
            if cell.kind == "camera" and cell.camera_id:
                text, tip = names(cell.camera_id), f"{names(cell.camera_id)} ({cell.camera_id})"
            elif cell.kind == "map":
                text, tip = self.tr("Map"), self.tr("The map of the incident")
            else:
                text, tip = "", self.tr("Drop a camera here")
            mini = _MiniCell(cell, text, tip, self.grid_host)
            mini.cameraDropped.connect(lambda i, cid: self.cameraDropped.emit(self.wall_id, i, cid))
            mini.clearRequested.connect(lambda i: self.clearRequested.emit(self.wall_id, i))
            self.grid.addWidget(mini, cell.row, cell.col, cell.row_span, cell.col_span)
            self.cells.append(mini)
        for r in range(4):
            self.grid.setRowStretch(r, 1 if r < side else 0)
            self.grid.setColumnStretch(r, 1 if r < side else 0)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.selected.emit(self.wall_id)
        super().mousePressEvent(event)


class WallControlPanel(QDockWidget):
    """The "Video walls" dock.

    ``client`` is the console's engine client (its session); ``settings`` keeps the presets and the
    selected wall; ``names`` gives a camera's name for the miniatures. Call :meth:`start` once logged in
    and ``await panel.control.aclose()`` when the console stops.

    Signals:
        actionFailed(str): an action failed (the console may also show it in its status bar).
    """

    actionFailed = Signal(str)

    def __init__(
        self,
        client: EngineClient,
        settings: QSettings | None = None,
        names: Callable[[str], str] | None = None,
        parent: QWidget | None = None,
        *,
        feed_backoff: Backoff | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dock_wall_control")
        self.settings = settings
        self._names = names or (lambda cid: cid)
        self.model = WallControlModel()
        if settings is not None:
            self.model.load_presets(settings.value(PRESETS_KEY))
            saved = settings.value(SELECTED_KEY)
            self.model.selected = str(saved) if saved else None
            target = settings.value(AREA_TARGET_KEY)
            self._area_target: str | None = str(target) if target else None
        else:
            self._area_target = None
        self.control = WallControl(client, self.model, feed_backoff=feed_backoff, parent=self)
        self.current_incident: str | None = None
        self.cards: dict[str, _WallCard] = {}

        body = QWidget(self)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(4)

        self.cards_host = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_host)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.setSpacing(4)
        self.empty_label = QLabel(self.cards_host)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #9ca3af;")
        self.cards_layout.addWidget(self.empty_label)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.cards_host)
        outer.addWidget(scroll, 1)

        grid_row = QHBoxLayout()
        self.grid_label = QLabel(body)
        grid_row.addWidget(self.grid_label)
        self.grid_buttons = QButtonGroup(self)
        self.grid_buttons.setExclusive(True)
        for n in GRIDS:
            side = grid_side(n)
            b = QPushButton(f"{side}×{side}", body)
            b.setCheckable(True)
            b.setObjectName(f"wallControlGrid{n}")
            self.grid_buttons.addButton(b, n)
            grid_row.addWidget(b)
        self.grid_buttons.idClicked.connect(self._on_grid_clicked)
        grid_row.addStretch(1)
        outer.addLayout(grid_row)

        action_row = QHBoxLayout()
        self.send_btn = QPushButton(body)
        self.send_btn.setObjectName("wallSendIncident")
        self.send_btn.clicked.connect(self._on_send_clicked)
        self.release_btn = QPushButton(body)
        self.release_btn.setObjectName("wallRelease")
        self.release_btn.clicked.connect(self._on_release_clicked)
        action_row.addWidget(self.send_btn, 1)
        action_row.addWidget(self.release_btn, 1)
        outer.addLayout(action_row)

        preset_row = QHBoxLayout()
        self.preset_combo = QComboBox(body)
        self.preset_combo.setObjectName("wallPresets")
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(8)
        self.apply_preset_btn = QPushButton(body)
        self.apply_preset_btn.clicked.connect(self._on_apply_preset)
        self.delete_preset_btn = QPushButton(body)
        self.delete_preset_btn.clicked.connect(self._on_delete_preset)
        preset_row.addWidget(self.preset_combo, 1)
        preset_row.addWidget(self.apply_preset_btn)
        preset_row.addWidget(self.delete_preset_btn)
        outer.addLayout(preset_row)

        save_row = QHBoxLayout()
        self.preset_name = QLineEdit(body)
        self.preset_name.setMaxLength(PRESET_NAME_MAX)
        self.preset_name.returnPressed.connect(self._on_save_preset)
        self.save_preset_btn = QPushButton(body)
        self.save_preset_btn.clicked.connect(self._on_save_preset)
        save_row.addWidget(self.preset_name, 1)
        save_row.addWidget(self.save_preset_btn)
        outer.addLayout(save_row)

        # Where an area drawn on the map sends its cameras: this console's video wall or one of the walls.
        area_row = QHBoxLayout()
        self.area_label = QLabel(body)
        self.area_target_combo = QComboBox(body)
        self.area_target_combo.setObjectName("wallAreaTarget")
        self.area_target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.area_target_combo.setMinimumContentsLength(8)
        self.area_target_combo.activated.connect(self._on_area_target_chosen)
        area_row.addWidget(self.area_label)
        area_row.addWidget(self.area_target_combo, 1)
        outer.addLayout(area_row)

        self.message = QLabel(body)
        self.message.setWordWrap(True)
        self.message.setObjectName("wallControlMessage")
        outer.addWidget(self.message)
        self.setWidget(body)

        self.control.changed.connect(self._on_changed)
        self.control.failed.connect(self._on_failed)
        self.control.done.connect(self._on_done)
        self.retranslate()
        self._render_presets()
        self._render()

    # ------------------------------------------------------------------ API

    def start(self) -> None:
        """Load the walls and follow them live (the console is logged in)."""
        self.control.start()

    def send_incident(self, wall_id: str, incident_id: str) -> asyncio.Task[Any]:
        """Put an incident on a wall (its cameras and the map); the wall's layout before is kept."""
        return self.control.send_incident(wall_id, incident_id)

    @Slot(str)
    def set_current_incident(self, incident_id: str) -> None:
        """The incident the operator is looking at ("" for none): what "Send incident" sends."""
        self.current_incident = incident_id or None
        self._render_buttons()

    @Slot(str, list)
    def on_wall_requested(self, incident_id: str, _camera_ids: list[Any]) -> None:
        """The console's "send to the wall display": the incident goes to the selected wall."""
        self.set_current_incident(incident_id)
        self._on_send_clicked()

    @property
    def area_target(self) -> str | None:
        """The wall a drawn area's cameras go to (None: the console's own video wall, or the wall is gone)."""
        t = self._area_target
        return t if t is not None and self.model.wall(t) is not None else None

    def set_area_target(self, wall_id: str | None) -> None:
        self._area_target = wall_id or None
        if self.settings is not None:
            self.settings.setValue(AREA_TARGET_KEY, self._area_target or "")
        self._render_area_targets()

    def send_area(self, wall_id: str, camera_ids: list[str]) -> asyncio.Task[Any] | None:
        """A drawn area's cameras (nearest its centre first) on a wall; None when there is nothing to send."""
        layout = self.model.area_layout(wall_id, camera_ids)
        if layout is None:
            return None
        return self.control.send_cameras(wall_id, layout)

    @Slot()
    def refresh_names(self) -> None:
        """Camera names changed (the console loaded its cameras): redraw the miniatures."""
        for card in self.cards.values():
            card._key = None
        self._render()

    def sizeHint(self) -> QSize:
        return QSize(300, 520)

    # ------------------------------------------------------------------ rendering

    def _title(self, wall: WallOut) -> str:
        name = html.escape(wall.name)
        ident = html.escape(wall.id)
        if wall.mode == "incident":
            badge = self.tr("INCIDENT")
            return f"<b>{name}</b> <span style='color:#9ca3af'>{ident}</span> <span style='color:#f87171'>● {badge}</span>"
        return f"<b>{name}</b> <span style='color:#9ca3af'>{ident}</span>"

    def _render(self) -> None:
        m = self.model
        ids = m.wall_ids()
        for wid in [w for w in self.cards if w not in ids]:
            card = self.cards.pop(wid)
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        for pos, wid in enumerate(ids):
            card = self.cards.get(wid)
            if card is None:
                card = _WallCard(wid, self.cards_host)
                card.selected.connect(self._on_card_selected)
                card.cameraDropped.connect(self._on_camera_dropped)
                card.clearRequested.connect(self._on_clear_requested)
                self.cards[wid] = card
                self.cards_layout.insertWidget(pos + 1, card)
            wall = m.walls[wid]
            card.render(wall, m.cells(wid), self._names, self._title(wall))
            card.set_selected(wid == m.selected)
        self.empty_label.setVisible(not ids)
        self._render_area_targets()
        wall = m.wall(m.selected)
        if wall is not None:
            b = self.grid_buttons.button(wall.grid)
            if b is not None and not b.isChecked():
                b.setChecked(True)
        self._render_buttons()

    def _render_buttons(self) -> None:
        sel = self.model.selected
        has_wall = self.model.wall(sel) is not None
        for b in self.grid_buttons.buttons():
            b.setEnabled(has_wall)
        self.send_btn.setEnabled(has_wall and self.current_incident is not None)
        self.release_btn.setEnabled(self.model.can_release(sel))
        self.apply_preset_btn.setEnabled(has_wall and self.preset_combo.count() > 0)
        self.delete_preset_btn.setEnabled(self.preset_combo.count() > 0)
        self.save_preset_btn.setEnabled(has_wall)

    def _render_area_targets(self) -> None:
        combo = self.area_target_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(self.tr("This console's video wall"), "")
        for wid in self.model.wall_ids():
            combo.addItem(self.tr("Wall: {name}").format(name=self.model.walls[wid].name), wid)
        combo.setCurrentIndex(max(0, combo.findData(self.area_target or "")))
        combo.blockSignals(False)

    def _render_presets(self) -> None:
        current = self.preset_combo.currentText()
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItems(self.model.preset_names())
        if current:
            i = self.preset_combo.findText(current)
            if i >= 0:
                self.preset_combo.setCurrentIndex(i)
        self.preset_combo.blockSignals(False)
        self._render_buttons()

    def _save_presets(self) -> None:
        if self.settings is not None:
            self.settings.setValue(PRESETS_KEY, self.model.presets_json())

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {'#f87171' if error else '#9ca3af'};")
        self.message.setText(text)

    # ------------------------------------------------------------------ slots

    @Slot()
    def _on_changed(self) -> None:
        self._render()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._say(message, error=True)
        self.actionFailed.emit(message)

    @Slot(str)
    def _on_done(self, message: str) -> None:
        self._say(message)

    @Slot(str)
    def _on_card_selected(self, wall_id: str) -> None:
        if self.model.select(wall_id):
            if self.settings is not None:
                self.settings.setValue(SELECTED_KEY, wall_id)
            self._render()

    @Slot(str, int, str)
    def _on_camera_dropped(self, wall_id: str, index: int, camera_id: str) -> None:
        self._on_card_selected(wall_id)
        layout = self.model.drop(wall_id, index, camera_id)
        if layout is not None:
            self.control.put_layout(wall_id, layout)

    @Slot(str, int)
    def _on_clear_requested(self, wall_id: str, index: int) -> None:
        layout = self.model.clear(wall_id, index)
        if layout is not None:
            self.control.put_layout(wall_id, layout)

    @Slot(int)
    def _on_grid_clicked(self, grid: int) -> None:
        sel = self.model.selected
        layout = self.model.with_grid(sel, grid) if sel else None
        if sel and layout is not None:
            self.control.put_layout(sel, layout)

    @Slot()
    def _on_send_clicked(self) -> None:
        sel = self.model.selected
        if sel is None or self.model.wall(sel) is None:
            self._on_failed(self.tr("No video wall to send to: the engine knows no wall yet."))
            return
        if self.current_incident is None:
            return
        self.control.send_incident(sel, self.current_incident)

    @Slot(int)
    def _on_area_target_chosen(self, index: int) -> None:
        self.set_area_target(str(self.area_target_combo.itemData(index) or "") or None)

    @Slot()
    def _on_release_clicked(self) -> None:
        sel = self.model.selected
        if sel is not None:
            self.control.release(sel)

    @Slot()
    def _on_save_preset(self) -> None:
        sel = self.model.selected
        name = self.preset_name.text().strip()
        if not name or sel is None:
            self._say(self.tr("Give the preset a name first."), error=True)
            return
        if self.model.save_preset(name, sel):
            self._save_presets()
            self._render_presets()
            self.preset_combo.setCurrentText(name)
            self.preset_name.clear()
            self._say(self.tr("Preset “{name}” saved.").format(name=name))

    @Slot()
    def _on_apply_preset(self) -> None:
        sel = self.model.selected
        name = self.preset_combo.currentText()
        layout = self.model.preset_layout(name) if name else None
        if sel is not None and layout is not None:
            self.control.put_layout(sel, layout)

    @Slot()
    def _on_delete_preset(self) -> None:
        name = self.preset_combo.currentText()
        if name and self.model.delete_preset(name):
            self._save_presets()
            self._render_presets()

    # ------------------------------------------------------------------ language

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.refresh_names()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Video walls"))
        self.empty_label.setText(
            self.tr("No video wall yet. A wall appears here once a console has given it a layout.")
        )
        self.grid_label.setText(self.tr("Grid:"))
        for n in GRIDS:
            b = self.grid_buttons.button(n)
            if b is not None:
                b.setToolTip(self.tr("%n tile(s)", "", n))
        self.send_btn.setText(self.tr("Send incident to wall"))
        self.send_btn.setToolTip(self.tr("The incident's cameras and the map on the selected wall"))
        self.release_btn.setText(self.tr("Release"))
        self.release_btn.setToolTip(self.tr("Back to the layout the wall showed before"))
        self.apply_preset_btn.setText(self.tr("Apply"))
        self.delete_preset_btn.setText(self.tr("Delete"))
        self.preset_name.setPlaceholderText(self.tr("Preset name"))
        self.save_preset_btn.setText(self.tr("Save layout"))
        self.area_label.setText(self.tr("Drawn area to:"))
        self.area_target_combo.setToolTip(
            self.tr("Where the cameras of an area drawn on the map go: this console's video wall or a wall")
        )
        self._render_area_targets()


def install_wall_control(
    window: QMainWindow, controller: Any, settings: QSettings | None
) -> WallControlPanel:
    """Dock the panel in the console window and wire it to the console's controller; returns it, started.

    Call it before the window restores its saved arrangement (``MainWindow.restore``), so the dock's place
    is remembered between runs.

    ``controller`` is the console's :class:`~app.console.controller.ConsoleController`: its client (the
    operator's session), camera names, its "send to the wall display" request (``wallRequested``) and the
    selected incident. Stop it with ``await panel.control.aclose()`` before the controller closes its client.
    """
    c = controller

    def name(camera_id: str) -> str:
        cam = c.camera(camera_id)
        return str(cam.name) if cam is not None else camera_id

    panel = WallControlPanel(c.client, settings, name, window)
    add_dock = getattr(window, "add_dock", None)
    if add_dock is not None:  # the console's main window: tabbed with the health panel, in the View menu
        add_dock("wall_control", panel)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    c.wallRequested.connect(panel.on_wall_requested)
    c.detailChanged.connect(lambda: panel.set_current_incident(c.selected_incident or ""))
    c.camerasLoaded.connect(panel.refresh_names)
    status = getattr(window, "statusBar", None)
    if status is not None:  # a drawn area sent to a wall, a takeover: said where the operator looks too
        panel.control.done.connect(lambda msg: status().showMessage(msg, 8000))
        panel.actionFailed.connect(lambda msg: status().showMessage(msg, 8000))
    panel.start()
    return panel

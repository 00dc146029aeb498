"""The console's video wall: a 1/4/9/16 grid of :class:`VideoTile` over :class:`WallLayoutVM`.

Cameras arrive by drag and drop (from the map, the camera list or an incident's cameras: MIME
``application/x-goldentime-camera-id``), by double-click in a list, or all at once from an incident.
Double-click a tile to maximise it (it then switches to the main stream by itself), again or Esc to go back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.console.camera_drag import CAMERA_MIME_TYPE, CameraDropTarget
from app.console.viewmodels.wall import LAYOUTS, WallLayoutVM, grid_shape
from app.video.factory import BackendFactory
from app.video.tile import VideoTile
from app.video.tile_model import TileStatus

__all__ = ["CAMERA_MIME_TYPE", "TileSlot", "WallPanel"]

_log = logging.getLogger(__name__)

#: (main URL, sub URL) for a camera, or None when the console has no media access (yet).
UrlProvider = Callable[[str], "tuple[str, str] | None"]


class TileSlot(CameraDropTarget, QFrame):
    """One place on the wall: a drop target around a video tile.

    Signals:
        cameraDropped(int, str): a camera was dropped here.
        maximiseToggled(int): double-click on the tile.
        clearRequested(int): "remove from wall" from the context menu.
    """

    cameraDropped = Signal(int, str)
    maximiseToggled = Signal(int)
    clearRequested = Signal(int)

    def __init__(self, index: int, factory: BackendFactory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName("tileSlot")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(1)
        self._drop_highlight(False)
        self.tile = VideoTile(factory, self)
        self.tile.doubleClicked.connect(lambda: self.maximiseToggled.emit(self.index))
        self.camera_id: str | None = None
        self.notice = QLabel(self)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setStyleSheet("color: #9ca3af;")
        self.notice.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self.tile, 1)
        layout.addWidget(self.notice)

    def _drop_highlight(self, on: bool) -> None:
        colour = "#facc15" if on else "#374151"
        self.setStyleSheet(f"QFrame#tileSlot {{ border: 1px solid {colour}; background: #111827; }}")

    def _camera_dropped(self, camera_id: str) -> None:
        self.cameraDropped.emit(self.index, camera_id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self.camera_id is None:
            return
        menu = QMenu(self)
        remove = QAction(self.tr("Remove from wall"), menu)
        remove.triggered.connect(lambda: self.clearRequested.emit(self.index))
        reconnect = QAction(self.tr("Reconnect"), menu)
        reconnect.triggered.connect(self.tile.reconnect)
        maximise = QAction(self.tr("Maximise / restore"), menu)
        maximise.triggered.connect(lambda: self.maximiseToggled.emit(self.index))
        menu.addActions([maximise, reconnect, remove])
        menu.exec(event.globalPos())
        menu.deleteLater()


class WallPanel(QWidget):
    """The wall dock's content.

    Signals:
        tileStatusChanged(str, str): a tile's camera id and its new :class:`TileStatus` value.
        layoutChanged(): the layout or an assignment changed (the window saves it).
    """

    tileStatusChanged = Signal(str, str)
    layoutChanged = Signal()

    def __init__(
        self,
        vm: WallLayoutVM,
        factory: BackendFactory,
        urls: UrlProvider,
        names: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vm = vm
        self.factory = factory
        self._urls = urls
        self._names = names
        self.slots: list[TileSlot] = []
        self._grid_host = QWidget(self)
        self._grid_host.setObjectName("wallGrid")
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self._layout_label = QLabel(self)
        bar.addWidget(self._layout_label)
        self.layout_buttons = QButtonGroup(self)
        self.layout_buttons.setExclusive(True)
        for i, n in enumerate(LAYOUTS):
            b = QPushButton(f"{grid_shape(n)[0]}×{grid_shape(n)[1]}", self)
            b.setCheckable(True)
            b.setObjectName(f"wallLayout{n}")
            b.setShortcut(QKeySequence(f"Ctrl+Alt+{i + 1}"))
            self.layout_buttons.addButton(b, n)
            bar.addWidget(b)
        self.layout_buttons.idClicked.connect(self._on_layout_clicked)
        bar.addStretch(1)
        self.hint = QLabel(self)
        self.hint.setStyleSheet("color: #9ca3af;")
        bar.addWidget(self.hint)
        self.clear_btn = QPushButton(self)
        self.clear_btn.clicked.connect(self._on_clear_all)
        bar.addWidget(self.clear_btn)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self._grid_host, 1)
        self._esc = QShortcut(
            QKeySequence(Qt.Key.Key_Escape), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        self._esc.activated.connect(self._on_escape)
        self._media_missing = False
        self.retranslate()
        self.apply()

    # ------------------------------------------------------------------ API

    def tile(self, index: int) -> VideoTile:
        return self._slot(index).tile

    def visible_tiles(self) -> list[VideoTile]:
        return [self.slots[i].tile for i in range(self.vm.layout) if i < len(self.slots)]

    def put_cameras(self, camera_ids: list[str]) -> None:
        self.vm.put_cameras(camera_ids)
        self.apply()

    def add_camera(self, camera_id: str) -> None:
        self.vm.add_camera(camera_id)
        self.apply()

    def set_layout(self, layout: int) -> None:
        self.vm.set_layout(layout)
        self.apply()

    @Slot()
    def refresh_media(self) -> None:
        """The media grant changed: replay every tile with fresh URLs."""
        for s in self.slots:
            s.camera_id = None
        self.apply()

    def close_players(self) -> None:
        """Stop and release every player (before the widgets are destroyed)."""
        for s in self.slots:
            s.tile.close_player()

    def apply(self) -> None:
        """Make the widgets match the view model."""
        n = self.vm.layout
        while len(self.slots) < n:
            self.slots.append(self._make_slot(len(self.slots)))
        rows, cols = grid_shape(n)
        maxed = self.vm.maximised
        for s in self.slots:
            self._grid.removeWidget(s)
        for i, s in enumerate(self.slots):
            if i >= n:
                s.hide()
                self._show_camera(s, None)
                continue
            if maxed is not None and i != maxed:
                s.hide()
            else:
                if maxed is None:
                    self._grid.addWidget(s, i // cols, i % cols)
                else:
                    self._grid.addWidget(s, 0, 0)
                s.show()
            self._show_camera(s, self.vm.camera_at(i))
        for r in range(4):
            self._grid.setRowStretch(r, 1 if r < (1 if maxed is not None else rows) else 0)
            self._grid.setColumnStretch(r, 1 if r < (1 if maxed is not None else cols) else 0)
        b = self.layout_buttons.button(n)
        if b is not None and not b.isChecked():
            b.setChecked(True)
        self.layoutChanged.emit()

    def _slot(self, index: int) -> TileSlot:
        while len(self.slots) <= index:
            self.slots.append(self._make_slot(len(self.slots)))
        return self.slots[index]

    def _make_slot(self, index: int) -> TileSlot:
        s = TileSlot(index, self.factory, self._grid_host)
        s.hide()
        s.cameraDropped.connect(self._on_dropped)
        s.maximiseToggled.connect(self._on_maximise)
        s.clearRequested.connect(self._on_clear)
        s.tile.stateChanged.connect(lambda status, slot=s: self._on_tile_state(slot, status))
        return s

    def _show_camera(self, slot: TileSlot, camera_id: str | None) -> None:
        if camera_id == slot.camera_id:
            return
        slot.camera_id = camera_id
        if camera_id is None:
            slot.tile.clear()
            slot.notice.hide()
            return
        urls = self._urls(camera_id)
        if urls is None:
            slot.tile.clear()
            slot.camera_id = None  # retried on refresh_media
            slot.notice.setText(
                self.tr("{name}: no media access from the engine").format(name=self._names(camera_id))
            )
            slot.notice.show()
            return
        slot.notice.hide()
        slot.tile.set_camera(camera_id, self._names(camera_id), urls[0], urls[1])

    # ------------------------------------------------------------------ slots

    @Slot(int, str)
    def _on_dropped(self, index: int, camera_id: str) -> None:
        self.vm.assign(index, camera_id)
        self.apply()

    @Slot(int)
    def _on_maximise(self, index: int) -> None:
        self.vm.toggle_maximise(index)
        self.apply()

    @Slot(int)
    def _on_clear(self, index: int) -> None:
        self.vm.clear(index)
        self.apply()

    @Slot()
    def _on_clear_all(self) -> None:
        self.vm.clear_all()
        self.apply()

    @Slot()
    def _on_escape(self) -> None:
        if self.vm.maximised is not None:
            self.vm.toggle_maximise(self.vm.maximised)
            self.apply()

    @Slot(int)
    def _on_layout_clicked(self, layout: int) -> None:
        self.set_layout(layout)

    def _on_tile_state(self, slot: TileSlot, status: TileStatus) -> None:
        if slot.camera_id is not None:
            self.tileStatusChanged.emit(slot.camera_id, str(status))

    # ------------------------------------------------------------------ language

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self._layout_label.setText(self.tr("Layout:"))
        self.hint.setText(self.tr("Drag cameras onto tiles · double-click to maximise · Esc to restore"))
        self.clear_btn.setText(self.tr("Clear wall"))
        for n in LAYOUTS:
            b = self.layout_buttons.button(n)
            if b is not None:
                b.setToolTip(self.tr("%n tile(s)", "", n))

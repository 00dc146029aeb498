"""Every camera, filterable by name or id; drag one onto a video tile, or double-click to add it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidgetItem, QVBoxLayout, QWidget

from app.console.viewmodels.health import HealthVM
from app.console.widgets.detail_panel import CameraIdRole, CameraListWidget
from app.console.widgets.labels import purpose_name

__all__ = ["CameraPanel"]


class CameraPanel(QWidget):
    """Signals:
    cameraActivated(str): double-click or Enter on a camera (add it to the wall).
    cameraSelected(str): the current camera changed (show it on the map).
    """

    cameraActivated = Signal(str)
    cameraSelected = Signal(str)

    def __init__(self, vm: HealthVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.search = QLineEdit(self)
        self.search.setObjectName("cameraSearch")
        self.search.setClearButtonEnabled(True)
        self.list = CameraListWidget(self)
        self.list.setObjectName("cameraList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)
        self.count = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count)
        self.search.textChanged.connect(self._apply_filter)
        self.list.itemActivated.connect(lambda item: self.cameraActivated.emit(str(item.data(CameraIdRole))))
        self.list.currentItemChanged.connect(self._on_current)
        self.retranslate()

    @Slot()
    def refresh(self) -> None:
        current = self.list.selected_camera()
        self.list.clear()
        for cam in self.vm.cameras():
            item = QListWidgetItem(self._text(cam.id))
            item.setToolTip(item.text())
            item.setData(CameraIdRole, cam.id)
            self.list.addItem(item)
            if cam.id == current:
                self.list.setCurrentItem(item)
        self._apply_filter(self.search.text())

    def _text(self, camera_id: str) -> str:
        cam = self.vm.camera(camera_id)
        if cam is None:
            return camera_id
        off = " · " + self.tr("offline") if self.vm.is_offline(camera_id) else ""
        return f"{cam.name} ({cam.id}) · {purpose_name(cam.purpose)}{off}"

    def select(self, camera_id: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(CameraIdRole) == camera_id:
                item.setHidden(False)
                self.list.setCurrentItem(item)
                self.list.scrollToItem(item)
                return

    @Slot(str)
    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        shown = 0
        for i in range(self.list.count()):
            item = self.list.item(i)
            hide = bool(needle) and needle not in item.text().casefold()
            item.setHidden(hide)
            shown += not hide
        self.count.setText(self.tr("%n camera(s)", "", shown))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is not None:
            self.cameraSelected.emit(str(item.data(CameraIdRole)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.search.setPlaceholderText(self.tr("Search cameras (Ctrl+F)"))
        self.list.setToolTip(
            self.tr("Drag a camera onto a video tile, or double-click to add it to the wall")
        )
        self.refresh()

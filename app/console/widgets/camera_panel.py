"""Every camera, filterable by name or id; drag one onto a video tile, or double-click to add it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidgetItem, QVBoxLayout, QWidget

from app.console.viewmodels.health import HealthVM
from app.console.widgets.detail_panel import CameraIdRole, CameraListWidget
from app.console.widgets.labels import purpose_name
from app.formats.api import CameraOut

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
        # The selected camera's details: what its register says (who runs it, how long it keeps video).
        self.details = QLabel(self)
        self.details.setObjectName("cameraDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.details)
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
        current = self.list.selected_camera()
        self._show_details(current)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self._show_details(None if item is None else str(item.data(CameraIdRole)))
        if item is not None:
            self.cameraSelected.emit(str(item.data(CameraIdRole)))

    def _show_details(self, camera_id: str | None) -> None:
        cam = None if camera_id is None else self.vm.camera(camera_id)
        self.details.setText("" if cam is None else "\n".join(self.detail_lines(cam)))
        self.details.setVisible(cam is not None)

    def detail_lines(self, cam: CameraOut) -> list[str]:
        """The lines of the camera details, translated (register fields only when the camera has them)."""
        lines = [f"{cam.name} ({cam.id})"]
        if cam.approximate:
            lines.append(self.tr("Approximate position: not used as a nearest camera until corrected"))
        reg = cam.register_entry
        if reg is None:
            return lines
        provider = f"{reg.provider} ({reg.provider_code})" if reg.provider_code else reg.provider
        if provider:
            lines.append(self.tr("Operated by: {provider}").format(provider=provider))
        if reg.register_no:
            lines.append(self.tr("Register number: {number}").format(number=reg.register_no))
        for address in dict.fromkeys(a for a in (reg.road_address, reg.lot_address) if a):
            lines.append(self.tr("Address: {address}").format(address=address))
        if reg.purpose_text:
            lines.append(self.tr("Purpose in the register: {purpose}").format(purpose=reg.purpose_text))
        if reg.installed:
            lines.append(self.tr("Installed: {when}").format(when=reg.installed))
        if reg.pixels.isdigit() and int(reg.pixels) > 0:  # 카메라화소수 counts 10,000 pixels
            lines.append(self.tr("Resolution: {mp} megapixels").format(mp=f"{int(reg.pixels) / 100:g}"))
        elif reg.pixels:
            lines.append(self.tr("Resolution: {pixels}").format(pixels=reg.pixels))
        if reg.view:
            lines.append(self.tr("Filming: {view}").format(view=reg.view))
        if reg.retention_days is not None:
            lines.append(self.tr("Keeps video for %n day(s)", "", reg.retention_days))
        if reg.phone:
            lines.append(self.tr("Phone: {phone}").format(phone=reg.phone))
        if reg.data_date:
            lines.append(self.tr("Register edition: {date}").format(date=reg.data_date))
        return lines

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

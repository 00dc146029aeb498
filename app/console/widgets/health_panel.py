"""Camera and agency health: offline cameras and agencies whose deliveries fail, problems first."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.console.viewmodels.health import HealthVM
from app.console.widgets.labels import agency_kind_name, agency_state_name, purpose_name

__all__ = ["HealthPanel"]

_PROBLEM = QColor("#ef4444")
_OK = QColor("#22c55e")


class HealthPanel(QWidget):
    """Signals:
    cameraActivated(str): double-click on an offline camera (show it on the map).
    """

    cameraActivated = Signal(str)

    def __init__(self, vm: HealthVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.summary = QLabel(self)
        self.summary.setObjectName("healthSummary")
        self.summary.setWordWrap(True)
        self._agencies_label = QLabel(self)
        self._cameras_label = QLabel(self)
        self.agencies = QTreeWidget(self)
        self.agencies.setRootIsDecorated(False)
        self.agencies.setColumnCount(4)
        self.agencies.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cameras = QTreeWidget(self)
        self.cameras.setRootIsDecorated(False)
        self.cameras.setColumnCount(3)
        self.cameras.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.cameras.itemDoubleClicked.connect(self._on_camera_double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self._agencies_label)
        layout.addWidget(self.agencies, 1)
        layout.addWidget(self._cameras_label)
        layout.addWidget(self.cameras, 1)
        self._version = -1
        self.retranslate()

    @Slot()
    def refresh(self) -> None:
        self._version = self.vm.version
        offline = self.vm.offline_cameras()
        failing = self.vm.failing_agencies()
        self.summary.setText(
            self.tr("{off} of {total} cameras offline · {bad} agencies with delivery problems").format(
                off=len(offline), total=self.vm.camera_count, bad=len(failing)
            )
        )
        self.summary.setStyleSheet(
            f"QLabel#healthSummary {{ color: {(_PROBLEM if offline or failing else _OK).name()}; font-weight: bold; }}"
        )
        self.agencies.clear()
        for st in self.vm.agencies():
            item = QTreeWidgetItem(
                [
                    st.agency.name,
                    agency_kind_name(st.agency.kind),
                    agency_state_name(st.state),
                    self.tr("{dead} dead · {queued} queued").format(
                        dead=st.dead_letters, queued=st.queue_depth
                    ),
                ]
            )
            item.setForeground(2, _PROBLEM if st.problem else _OK)
            self.agencies.addTopLevelItem(item)
        self.cameras.clear()
        for cam in offline:
            item = QTreeWidgetItem([cam.name, cam.id, purpose_name(cam.purpose)])
            item.setData(0, Qt.ItemDataRole.UserRole, cam.id)
            item.setForeground(0, _PROBLEM)
            self.cameras.addTopLevelItem(item)

    @Slot(QTreeWidgetItem, int)
    def _on_camera_double_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        self.cameraActivated.emit(str(item.data(0, Qt.ItemDataRole.UserRole)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self._agencies_label.setText(self.tr("Agencies"))
        self._cameras_label.setText(self.tr("Offline cameras"))
        self.agencies.setHeaderLabels(
            [self.tr("Agency"), self.tr("Kind"), self.tr("State"), self.tr("Deliveries")]
        )
        self.cameras.setHeaderLabels([self.tr("Camera"), self.tr("ID"), self.tr("Purpose")])
        self.refresh()

"""Incident detail: header with the golden-time countdown, the operator's actions, and tabs for the
timeline, cameras, shares (with expiry countdowns) and deliveries per agency."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.console.camera_drag import CAMERA_MIME_TYPE
from app.console.viewmodels.detail import DeliveryHealth, IncidentDetailVM, ShareState
from app.console.viewmodels.queue import GoldenTimeState
from app.console.widgets.dialogs import ShareDialog
from app.console.widgets.labels import (
    delivery_state_name,
    priority_name,
    purpose_name,
    service_name,
    share_state_name,
    status_name,
    timeline_text,
)
from app.domain.enums import IncidentStatus

__all__ = ["CAMERA_MIME_TYPE", "CameraListWidget", "DetailPanel"]

CameraIdRole = Qt.ItemDataRole.UserRole + 1

_STATE_COLOUR = {
    DeliveryHealth.DELIVERED: "#22c55e",
    DeliveryHealth.PENDING: "#9ca3af",
    DeliveryHealth.RETRYING: "#f59e0b",
    DeliveryHealth.DEAD: "#ef4444",
}
_SHARE_COLOUR = {
    ShareState.ACTIVE: "#22c55e",
    ShareState.EXPIRING: "#f59e0b",
    ShareState.EXPIRED: "#9ca3af",
    ShareState.REVOKED: "#9ca3af",
    ShareState.PENDING: "#3b82f6",
}


class CameraListWidget(QListWidget):
    """A list of cameras that can be dragged onto video tiles (camera id under :data:`CAMERA_MIME_TYPE`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME_TYPE, "text/plain"]

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:  # type: ignore[override]
        mime = QMimeData()
        if items:
            cid = str(items[0].data(CameraIdRole))
            mime.setData(CAMERA_MIME_TYPE, cid.encode("utf-8"))
            mime.setText(cid)
        return mime

    def selected_camera(self) -> str | None:
        item = self.currentItem()
        return str(item.data(CameraIdRole)) if item is not None else None


class DetailPanel(QWidget):
    """The selected incident.

    Signals:
        acknowledgeRequested(), assignRequested(str), priorityRequested(int), closeRequested(str note),
        shareRequested(str agency_id, list camera_ids, int minutes, str purpose, dict terms),
        extendShareRequested(str share_id, int minutes, str reason), revokeShareRequested(str share_id),
        reportRequested(str camera_id): report to 119 with this camera's snapshot,
        retryRequested(str delivery_id), camerasToWall(list camera_ids), sendToWallDisplay(),
        cameraActivated(str camera_id): put one camera on the wall.
    """

    acknowledgeRequested = Signal()
    assignRequested = Signal(str)
    priorityRequested = Signal(int)
    closeRequested = Signal(str)
    shareRequested = Signal(str, list, int, str, dict)
    extendShareRequested = Signal(str, int, str)
    revokeShareRequested = Signal(str)
    reportRequested = Signal(str)
    retryRequested = Signal(str)
    camerasToWall = Signal(list)
    sendToWallDisplay = Signal()
    cameraActivated = Signal(str)

    def __init__(self, vm: IncidentDetailVM, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.username = username
        self._share_dialog: ShareDialog | None = None
        self._extend_dialog: QInputDialog | None = None

        self.title = QLabel(self)
        self.title.setObjectName("detailTitle")
        self.title.setStyleSheet("QLabel#detailTitle { font-size: 15pt; font-weight: bold; }")
        self.title.setWordWrap(True)
        self.golden = QLabel(self)
        self.golden.setObjectName("detailGolden")
        self.golden.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.meta = QLabel(self)
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.ack_btn = QPushButton(self)
        self.assign_btn = QPushButton(self)
        self.priority = QComboBox(self)
        self.share_btn = QPushButton(self)
        self.report_btn = QPushButton(self)
        self.wall_btn = QPushButton(self)
        self.wall_display_btn = QPushButton(self)
        self.close_btn = QPushButton(self)
        self.ack_btn.setShortcut(QKeySequence("Ctrl+Return"))
        self.share_btn.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.report_btn.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.wall_btn.setShortcut(QKeySequence("Ctrl+Shift+W"))
        self.close_btn.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.report_btn.setObjectName("report119")
        self.report_btn.setStyleSheet("QPushButton#report119 { color: #fca5a5; font-weight: bold; }")
        self.ack_btn.setObjectName("acknowledge")
        self.ack_btn.setStyleSheet("QPushButton#acknowledge { font-weight: bold; }")

        self.tabs = QTabWidget(self)
        self.timeline = QTreeWidget(self)
        self.timeline.setRootIsDecorated(False)
        self.timeline.setColumnCount(3)
        self.timeline.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.timeline.header().setStretchLastSection(True)
        self.cameras = CameraListWidget(self)
        self.cameras.itemDoubleClicked.connect(self._on_camera_double_clicked)
        self.shares = QTreeWidget(self)
        self.shares.setRootIsDecorated(False)
        self.shares.setColumnCount(5)
        self.shares.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.extend_btn = QPushButton(self)
        self.revoke_btn = QPushButton(self)
        self.deliveries = QTreeWidget(self)
        self.deliveries.setRootIsDecorated(False)
        self.deliveries.setColumnCount(4)
        self.deliveries.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.deliveries.header().setStretchLastSection(True)
        self.retry_btn = QPushButton(self)

        shares_page = QWidget(self)
        sl = QVBoxLayout(shares_page)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.shares, 1)
        sb = QHBoxLayout()
        sb.addStretch(1)
        sb.addWidget(self.extend_btn)
        sb.addWidget(self.revoke_btn)
        sl.addLayout(sb)
        deliveries_page = QWidget(self)
        dl = QVBoxLayout(deliveries_page)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.deliveries, 1)
        db = QHBoxLayout()
        db.addStretch(1)
        db.addWidget(self.retry_btn)
        dl.addLayout(db)
        self.tabs.addTab(self.timeline, "")
        self.tabs.addTab(self.cameras, "")
        self.tabs.addTab(shares_page, "")
        self.tabs.addTab(deliveries_page, "")

        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        head = QGridLayout()
        head.addWidget(self.title, 0, 0)
        head.addWidget(self.golden, 0, 1)
        head.addWidget(self.meta, 1, 0, 1, 2)
        head.setColumnStretch(0, 1)
        actions = QGridLayout()
        actions.setSpacing(4)
        self._priority_label = QLabel(self)
        prow = QHBoxLayout()
        prow.addWidget(self._priority_label)
        prow.addWidget(self.priority, 1)
        for i, w in enumerate((self.ack_btn, self.assign_btn, self.share_btn, self.report_btn)):
            actions.addWidget(w, 0, i)
        for i, w in enumerate((self.wall_btn, self.wall_display_btn, self.close_btn)):
            actions.addWidget(w, 1, i)
        actions.addLayout(prow, 1, 3)
        self._actions = actions
        self._body = QWidget(self)
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(head)
        body.addLayout(actions)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty)
        layout.addWidget(self._body, 1)

        self.ack_btn.clicked.connect(self.acknowledgeRequested)
        self.assign_btn.clicked.connect(self._on_assign)
        self.priority.activated.connect(self._on_priority)
        self.share_btn.clicked.connect(self._on_share)
        self.report_btn.clicked.connect(self._on_report)
        self.wall_btn.clicked.connect(lambda: self.camerasToWall.emit(self.vm.camera_ids()))
        self.wall_display_btn.clicked.connect(self.sendToWallDisplay)
        self.close_btn.clicked.connect(self._on_close)
        self.extend_btn.clicked.connect(self._on_extend)
        self.revoke_btn.clicked.connect(self._on_revoke)
        self.retry_btn.clicked.connect(self._on_retry)
        self.shares.itemSelectionChanged.connect(self._update_buttons)
        self.deliveries.itemSelectionChanged.connect(self._update_buttons)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        self._shown_id: str | None = None
        self.retranslate()
        self.refresh()

    # ------------------------------------------------------------------ rendering

    @Slot()
    def refresh(self) -> None:
        d = self.vm.detail
        self.empty.setVisible(d is None)
        self._body.setVisible(d is not None)
        if d is None:
            self._shown_id = None
            return
        same = d.id == self._shown_id
        self._shown_id = d.id
        drill = "[" + self.tr("DRILL") + "] " if d.exercise else ""
        self.title.setText(drill + d.title)
        where = d.location.address or f"{d.location.lat:.5f}, {d.location.lon:.5f}"
        self.meta.setText(
            self.tr("{service} · {status} · {where} · assignee: {assignee} · units: {units}").format(
                service=service_name(d.service),
                status=status_name(d.status),
                where=where,
                assignee=d.assignee or "-",
                units=", ".join(d.units) or "-",
            )
        )
        self.priority.setCurrentIndex(max(0, d.priority - 1))
        self._render_golden()
        self._render_timeline()
        self._render_cameras(keep_selection=same)
        self._render_shares()
        self._render_deliveries()
        self._update_buttons()

    def _render_golden(self) -> None:
        g = self.vm.golden_time()
        if g is None:
            self.golden.clear()
            return
        if g.state is GoldenTimeState.RUNNING:
            text, colour = self.tr("Golden time {left}").format(left=g.text), "#fbbf24"
        elif g.state is GoldenTimeState.OVERDUE:
            text, colour = self.tr("Golden time OVERDUE {over}").format(over=g.text), "#ef4444"
        elif g.state is GoldenTimeState.MET:
            text, colour = self.tr("Golden time met"), "#22c55e"
        else:
            text, colour = self.tr("Golden time missed ({over})").format(over=g.text), "#f87171"
        self.golden.setText(text)
        self.golden.setStyleSheet(
            f"QLabel#detailGolden {{ color: {colour}; font-size: 14pt; font-weight: bold; }}"
        )

    def _render_timeline(self) -> None:
        self.timeline.clear()
        items = []
        for ev in self.vm.timeline():
            at = ev.at.astimezone().strftime("%H:%M:%S")
            items.append(QTreeWidgetItem([at, ev.actor, timeline_text(ev.kind, ev.data)]))
        self.timeline.addTopLevelItems(items)

    def _render_cameras(self, keep_selection: bool) -> None:
        current = self.cameras.selected_camera() if keep_selection else None
        self.cameras.clear()
        for cam in self.vm.cameras():
            dist = f" · {cam.distance_m:.0f} m" if cam.distance_m is not None else ""
            state = "" if cam.online else " · " + self.tr("offline")
            item = QListWidgetItem(f"{cam.name} ({cam.id}) · {purpose_name(cam.purpose)}{dist}{state}")
            item.setData(CameraIdRole, cam.id)
            item.setToolTip(self.tr("Drag onto a video tile, or double-click to add it to the wall"))
            self.cameras.addItem(item)
            if cam.id == current:
                self.cameras.setCurrentItem(item)
        self.tabs.setTabText(1, self.tr("Cameras (%n)", "", self.cameras.count()))

    def _render_shares(self) -> None:
        selected = self._selected_share()
        self.shares.clear()
        for view in self.vm.shares():
            s = view.share
            item = QTreeWidgetItem(
                [
                    view.agency_name,
                    share_state_name(view.state),
                    view.countdown or s.expires_at.astimezone().strftime("%H:%M"),
                    ", ".join(s.camera_ids),
                    s.purpose,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, s.id)
            item.setData(0, Qt.ItemDataRole.UserRole + 1, view.can_extend)
            item.setForeground(1, QColor(_SHARE_COLOUR[view.state]))
            if s.viewer_url:
                tip = self.tr("Share page for the agency's browser (every camera live): {url}").format(
                    url=s.viewer_url
                )
                for column in range(item.columnCount()):
                    item.setToolTip(column, tip)
            self.shares.addTopLevelItem(item)
            if s.id == selected:
                item.setSelected(True)
        self.tabs.setTabText(2, self.tr("Shares (%n)", "", self.shares.topLevelItemCount()))

    def _render_deliveries(self) -> None:
        selected = self._selected_agency()
        self.deliveries.clear()
        worst: DeliveryHealth | None = None
        for row in self.vm.deliveries():
            detail = self.tr("{ok}/{total} delivered").format(ok=row.delivered, total=row.total)
            if row.state is not DeliveryHealth.DELIVERED:
                detail += " · " + self.tr("attempt %n", "", row.attempts)
            item = QTreeWidgetItem(
                [row.agency_name, delivery_state_name(row.state), detail, row.last_error or ""]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, row.agency_id)
            item.setData(0, Qt.ItemDataRole.UserRole + 1, list(row.dead_delivery_ids))
            item.setForeground(1, QColor(_STATE_COLOUR[row.state]))
            self.deliveries.addTopLevelItem(item)
            if row.agency_id == selected:
                item.setSelected(True)
            if worst is None:
                worst = row.state
        label = self.tr("Deliveries")
        if worst is DeliveryHealth.DEAD:
            label += " ⚠"
        self.tabs.setTabText(3, label)

    @Slot()
    def _on_tick(self) -> None:
        if self.vm.detail is None:
            return
        self._render_golden()
        if any(v.state in (ShareState.ACTIVE, ShareState.EXPIRING) for v in self.vm.shares()):
            self._render_shares()
            self._update_buttons()

    def _selected_share(self) -> str | None:
        items = self.shares.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def _selected_agency(self) -> str | None:
        items = self.deliveries.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    @Slot()
    def _update_buttons(self) -> None:
        d = self.vm.detail
        is_open = d is not None and d.status is not IncidentStatus.CLOSED
        self.ack_btn.setEnabled(self.vm.can_acknowledge)
        for w in (self.assign_btn, self.priority, self.share_btn, self.report_btn, self.close_btn):
            w.setEnabled(is_open)
        has_cams = bool(self.vm.camera_ids())
        self.wall_btn.setEnabled(has_cams)
        self.wall_display_btn.setEnabled(has_cams)
        items = self.shares.selectedItems()
        can = bool(items) and bool(items[0].data(0, Qt.ItemDataRole.UserRole + 1))
        self.extend_btn.setEnabled(can)
        self.revoke_btn.setEnabled(can)
        ditems = self.deliveries.selectedItems()
        self.retry_btn.setEnabled(bool(ditems) and bool(ditems[0].data(0, Qt.ItemDataRole.UserRole + 1)))

    # ------------------------------------------------------------------ actions

    @Slot()
    def _on_assign(self) -> None:
        d = self.vm.detail
        name, ok = QInputDialog.getText(
            self,
            self.tr("Assign incident"),
            self.tr("Assign to (operator name):"),
            text=(d.assignee if d else None) or self.username,
        )
        if ok:
            self.assignRequested.emit(name.strip())

    @Slot(int)
    def _on_priority(self, index: int) -> None:
        d = self.vm.detail
        if d is not None and index + 1 != d.priority:
            self.priorityRequested.emit(index + 1)

    @Slot()
    def _on_share(self) -> None:
        d = self.vm.detail
        if d is None:
            return
        dlg = ShareDialog(
            self.vm.share_targets(),
            self.vm.cameras(),
            self,
            bases=self.vm.legal_bases,
            default_basis=self.vm.default_basis(),
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.shareAccepted.connect(self.shareRequested)
        self._share_dialog = dlg
        dlg.destroyed.connect(self._forget_share_dialog)
        dlg.open()

    @Slot()
    def _forget_share_dialog(self) -> None:
        self._share_dialog = None

    @Slot()
    def _on_report(self) -> None:
        self.reportRequested.emit(self.cameras.selected_camera() or "")

    @Slot()
    def _on_close(self) -> None:
        d = self.vm.detail
        if d is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Close incident"),
            self.tr("Close “{title}”? Active shares end with it.").format(title=d.title),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.accepted.connect(lambda: self.closeRequested.emit(self.tr("Closed by the operator")))
        box.open()

    @Slot()
    def _on_extend(self) -> None:
        """An extension is a decision of its own: ask for its reason (window-modal, returns at once)."""
        sid = self._selected_share()
        if not sid:
            return
        dlg = QInputDialog(self)
        dlg.setObjectName("extendReason")
        dlg.setWindowTitle(self.tr("Extend the share"))
        dlg.setLabelText(
            self.tr("Why is the video still needed for 30 more minutes? (recorded in the audit)")
        )
        dlg.setInputMode(QInputDialog.InputMode.TextInput)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen(text: str) -> None:
            if text.strip():
                self.extendShareRequested.emit(sid, 30, text.strip())

        dlg.textValueSelected.connect(chosen)
        self._extend_dialog = dlg
        dlg.open()

    @Slot()
    def _on_revoke(self) -> None:
        sid = self._selected_share()
        if sid:
            self.revokeShareRequested.emit(sid)

    @Slot()
    def _on_retry(self) -> None:
        items = self.deliveries.selectedItems()
        if items:
            for did in items[0].data(0, Qt.ItemDataRole.UserRole + 1) or []:
                self.retryRequested.emit(str(did))

    def add_action(self, button: QPushButton) -> None:
        """Add a button below the incident's actions (e.g. the evidence bundle for supervisors)."""
        self._actions.addWidget(button, 2, 0)

    @Slot(QListWidgetItem)
    def _on_camera_double_clicked(self, item: QListWidgetItem) -> None:
        self.cameraActivated.emit(str(item.data(CameraIdRole)))

    # ------------------------------------------------------------------ language

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.ack_btn.setText(self.tr("Acknowledge"))
        self.ack_btn.setToolTip(self.tr("Acknowledge the incident (Ctrl+Enter)"))
        self.assign_btn.setText(self.tr("Assign…"))
        self.share_btn.setText(self.tr("Share video…"))
        self.share_btn.setToolTip(
            self.tr("Share cameras with an agency for a time and purpose (Ctrl+Shift+S)")
        )
        self.report_btn.setText(self.tr("Report to 119"))
        self.report_btn.setToolTip(
            self.tr("Report a fire to 119 with a snapshot of the selected camera, in one step (Ctrl+Shift+R)")
        )
        self.wall_btn.setText(self.tr("Cameras to wall"))
        self.wall_btn.setToolTip(
            self.tr("Put all of this incident's cameras on the video wall (Ctrl+Shift+W)")
        )
        self.wall_display_btn.setText(self.tr("Send to wall display"))
        self.wall_display_btn.setToolTip(self.tr("Show this incident on the control room's wall display"))
        self.close_btn.setText(self.tr("Close incident"))
        self._priority_label.setText(self.tr("Priority:"))
        self.priority.clear()
        for p in range(1, 6):
            self.priority.addItem(priority_name(p), p)
        self.extend_btn.setText(self.tr("Extend 30 min"))
        self.revoke_btn.setText(self.tr("Revoke"))
        self.retry_btn.setText(self.tr("Retry dead letters"))
        self.tabs.setTabText(0, self.tr("Timeline"))
        self.timeline.setHeaderLabels([self.tr("Time"), self.tr("By"), self.tr("Event")])
        self.shares.setHeaderLabels(
            [
                self.tr("Agency"),
                self.tr("State"),
                self.tr("Expires in"),
                self.tr("Cameras"),
                self.tr("Purpose"),
            ]
        )
        self.deliveries.setHeaderLabels(
            [self.tr("Agency"), self.tr("State"), self.tr("Progress"), self.tr("Last error")]
        )
        self.empty.setText(self.tr("Select an incident in the queue or on the map."))
        self._shown_id = None
        self.refresh()

    def stop(self) -> None:
        self._tick.stop()

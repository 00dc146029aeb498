"""Approvals and the provision ledger: supervisors see shares waiting for them (with a cue) and approve or
reject them with a reason; operators see agencies' over-cap requests to confirm; supervisors and auditors
read the ledger. The panel only draws and asks; queries run as the controller's tasks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.client.errors import EngineError
from app.console.viewmodels.provision import ProvisionVM
from app.domain.enums import Role

__all__ = ["ProvisionPanel", "install_provision_panel"]

REFRESH_MS = 5000


class ProvisionPanel(QWidget):
    """Signals: decideRequested(share_id, approve, reason), refreshRequested()."""

    decideRequested = Signal(str, bool, str)
    refreshRequested = Signal()

    def __init__(self, vm: ProvisionVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.tabs = QTabWidget(self)
        self.cue = QLabel(self)
        self.pending = QTableWidget(0, 7, self)
        self.reason = QLineEdit(self)
        self.approve_button = QPushButton(self)
        self.reject_button = QPushButton(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        for t in (self.pending,):
            t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            t.verticalHeader().hide()
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.addWidget(self.cue)
        lay.addWidget(self.pending, 1)
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        row.addWidget(self.approve_button)
        row.addWidget(self.reject_button)
        lay.addLayout(row)
        self.tabs.addTab(page, "")
        self.ledger: QTableWidget | None = None
        self.ledger_refresh: QPushButton | None = None
        if vm.reads_ledger:
            self.ledger = QTableWidget(0, 9, self)
            self.ledger.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.ledger.verticalHeader().hide()
            self.ledger.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            self.ledger.horizontalHeader().setStretchLastSection(True)
            self.ledger.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            self.ledger.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            self.ledger_refresh = QPushButton(self)
            lpage = QWidget(self)
            llay = QVBoxLayout(lpage)
            self._ledger_actions = QHBoxLayout()
            self._ledger_actions.addWidget(self.ledger_refresh)
            self._ledger_actions.addStretch(1)
            llay.addLayout(self._ledger_actions)
            llay.addWidget(self.ledger, 1)
            self.tabs.addTab(lpage, "")
            self.ledger_refresh.clicked.connect(self.refreshRequested)
        if not vm.approves and vm.role is Role.AUDITOR:
            self.tabs.setTabVisible(0, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self.approve_button.clicked.connect(lambda: self._decide(True))
        self.reject_button.clicked.connect(lambda: self._decide(False))
        self.retranslate()
        self.refresh()

    def selected_id(self) -> str | None:
        rows = self.pending.selectionModel().selectedRows()
        if not rows:
            return None
        return self.vm.pending[rows[0].row()].id

    def selected_ledger_incident(self) -> str | None:
        """The incident of the ledger row selected (for its evidence bundle), or None."""
        if self.ledger is None:
            return None
        rows = self.ledger.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.vm.ledger):
            return None
        return self.vm.ledger[rows[0].row()].incident_id

    def add_ledger_action(self, button: QPushButton) -> None:
        """Add a button beside the ledger's Refresh (e.g. the selected provision's evidence bundle)."""
        self._ledger_actions.insertWidget(1, button)

    @Slot()
    def _decide(self, approve: bool) -> None:
        sid = self.selected_id()
        if sid is None:
            self.status.setText(self.tr("Select a waiting share first."))
            return
        if not approve and not self.reason.text().strip():
            self.status.setText(self.tr("A rejection needs a reason."))
            return
        self.decideRequested.emit(sid, approve, self.reason.text().strip())

    def show_decided(self) -> None:
        self.status.setText(self.tr("Decision recorded."))

    def refresh(self) -> None:
        vm = self.vm
        self.pending.setRowCount(len(vm.pending))
        kinds = {
            "share": self.tr("Share"),
            "extension": self.tr("Extension"),
            "confirm": self.tr("Over-cap request"),
        }
        for r, share in enumerate(vm.pending):
            cells = vm.pending_cells(share)
            cells[0] = f"{kinds[vm.kind(share)]} · {cells[0]}"
            for c, text in enumerate(cells):
                self.pending.setItem(r, c, QTableWidgetItem(text))
        n = len(vm.pending)
        if n:
            self.cue.setText(self.tr("%n share(s) waiting for a decision", "", n))
            self.cue.setStyleSheet(
                "QLabel { color: white; background: #dc2626; font-weight: bold; padding: 4px; }"
            )
        else:
            self.cue.setText(self.tr("Nothing waiting"))
            self.cue.setStyleSheet("")
        self.tabs.setTabText(0, self.tr("Approvals") + (f" ({n})" if n else ""))
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.setWindowTitle(self.tr("Provision") + (f" ({n})" if n else ""))
        if self.ledger is not None:
            self.ledger.setRowCount(len(vm.ledger))
            for r, row in enumerate(vm.ledger):
                for c, text in enumerate(vm.ledger_cells(row)):
                    self.ledger.setItem(r, c, QTableWidgetItem(text))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.reason.setPlaceholderText(self.tr("Reason (required to reject)"))
        self.approve_button.setText(self.tr("Approve") if self.vm.approves else self.tr("Confirm"))
        self.reject_button.setText(self.tr("Reject"))
        self.reject_button.setVisible(self.vm.approves)
        self.pending.setHorizontalHeaderLabels(
            [
                self.tr("Asked"),
                self.tr("Recipient"),
                self.tr("Cameras"),
                self.tr("Minutes"),
                self.tr("Legal basis"),
                self.tr("Purpose or reason"),
                self.tr("Asked by"),
            ]
        )
        if self.ledger is not None and self.ledger_refresh is not None:
            self.tabs.setTabText(1, self.tr("Ledger"))
            self.ledger_refresh.setText(self.tr("Refresh"))
            self.ledger.setHorizontalHeaderLabels(
                [
                    self.tr("Date"),
                    self.tr("Recipient"),
                    self.tr("Purpose"),
                    self.tr("Legal basis"),
                    self.tr("Period"),
                    self.tr("Form"),
                    self.tr("Status"),
                    self.tr("Approver"),
                    self.tr("Viewings / time"),
                ]
            )
        self.refresh()


def install_provision_panel(window: QMainWindow, controller: Any) -> ProvisionPanel | None:
    """Dock the panel for operators (confirmations), supervisors (approvals, ledger) and auditors (ledger).
    Call before the window restores its arrangement; it polls the engine every few seconds as a task."""
    session = controller.client.session
    if session is None or session.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR):
        return None
    vm = ProvisionVM(role=Role(session.role))
    panel = ProvisionPanel(vm)
    dock = QDockWidget(window)
    dock.setObjectName("dock_provision")
    dock.setWidget(panel)
    add_dock = getattr(window, "add_dock", None)
    if add_dock is not None:
        add_dock("provision", dock)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    async def reload() -> None:
        try:
            if vm.role is not Role.AUDITOR:  # agencies are refused to auditors: ledger rows carry the names
                agencies = getattr(controller, "agencies", None) or await controller.client.list_agencies()
                vm.agency_names = {a.id: a.name for a in agencies}
            if vm.role is not Role.AUDITOR:
                vm.set_pending(await controller.client.pending_shares())
            if vm.reads_ledger and panel.tabs.currentIndex() == 1:
                vm.ledger = await controller.client.ledger()
        except EngineError as exc:
            panel.status.setText(exc.message)
            return
        panel.refresh()

    async def decide(share_id: str, approve: bool, reason: str) -> None:
        try:
            if approve:
                if vm.approves:
                    await controller.client.approve_share(share_id, reason)
                else:
                    await controller.client.confirm_share(share_id, reason)
            else:
                await controller.client.reject_share(share_id, reason)
        except EngineError as exc:
            panel.status.setText(exc.message)
            return
        panel.reason.clear()
        panel.show_decided()
        await reload()

    timer = QTimer(panel)
    timer.setInterval(REFRESH_MS)
    timer.timeout.connect(lambda: controller.spawn(reload(), "provision-reload"))
    timer.start()
    panel.refreshRequested.connect(lambda: controller.spawn(reload(), "provision-reload"))
    panel.tabs.currentChanged.connect(lambda _i: controller.spawn(reload(), "provision-reload"))
    panel.decideRequested.connect(lambda s, a, r: controller.spawn(decide(s, a, r), "provision-decide"))
    controller.spawn(reload(), "provision-reload")
    return panel

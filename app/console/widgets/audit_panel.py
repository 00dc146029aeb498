"""The audit trail for supervisors and administrators: who watched which camera, shared what with whom,
read which incident — filtered, newest first, exported to CSV for the records.

The panel only draws and asks; :func:`install_audit_panel` runs its queries as tasks the console's
controller owns, so nothing waits on the Qt thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.client.errors import EngineError
from app.console.viewmodels.audit import ACTION_PRESETS, PERIODS_H, ROW_LIMIT, AuditQuery, AuditVM
from app.domain.enums import Role

__all__ = ["AuditPanel", "install_audit_panel"]


class AuditPanel(QWidget):
    """Signals:
    searchRequested(AuditQuery): the supervisor asked for these rows.
    exportRequested(AuditQuery, str): write the rows of this query as CSV to the path.
    """

    searchRequested = Signal(object)
    exportRequested = Signal(object, str)

    def __init__(self, vm: AuditVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.actor = QLineEdit(self)
        self.action = QComboBox(self)
        self.action.setEditable(True)  # any action name, the presets are the common ones
        self.action.addItem("")
        self.action.addItems(list(ACTION_PRESETS))
        self.target = QLineEdit(self)
        self.period = QComboBox(self)
        self.search_button = QPushButton(self)
        self.search_button.setDefault(True)
        self.export_button = QPushButton(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 6, self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        form = QFormLayout()
        self._labels = [QLabel(self) for _ in range(4)]
        for label, field in zip(
            self._labels, (self.actor, self.action, self.target, self.period), strict=True
        ):
            form.addRow(label, field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

        self.search_button.clicked.connect(self._on_search)
        self.export_button.clicked.connect(self._on_export)
        for edit in (self.actor, self.target):
            edit.returnPressed.connect(self._on_search)
        self.action.lineEdit().returnPressed.connect(self._on_search)
        self.retranslate()
        self.period.setCurrentIndex(1)  # the last 24 hours

    def query(self) -> AuditQuery:
        return AuditQuery(
            actor=self.actor.text(),
            action=self.action.currentText(),
            target_id=self.target.text(),
            hours=int(self.period.currentData() or 24),
        )

    @Slot()
    def _on_search(self) -> None:
        self.status.setText(self.tr("Searching…"))
        self.searchRequested.emit(self.query())

    @Slot()
    def _on_export(self) -> None:
        query = self.query()
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export the audit trail"),
            str(Path.home() / query.file_name(datetime.now())),
            self.tr("CSV files (*.csv)"),
        )
        if path:
            self.exportRequested.emit(query, path)

    def refresh(self) -> None:
        rows = self.vm.rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(self.vm.cells(row)):
                item = QTableWidgetItem(text)
                if c == 5:
                    item.setToolTip(text)
                self.table.setItem(r, c, item)
        if self.vm.truncated:
            self.status.setText(
                self.tr("The newest {n} rows; narrow the search or export to see the rest.").format(
                    n=ROW_LIMIT
                )
            )
        else:
            self.status.setText(self.tr("{n} rows").format(n=len(rows)))

    def show_error(self, message: str) -> None:
        self.status.setText(message)

    def show_exported(self, path: str, size: int) -> None:
        self.status.setText(
            self.tr("Exported to {path} ({kb} KB)").format(path=path, kb=max(1, size // 1024))
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.setWindowTitle(self.tr("Audit trail"))
        texts = (self.tr("Who"), self.tr("Action"), self.tr("Target id"), self.tr("Period"))
        for label, text in zip(self._labels, texts, strict=True):
            label.setText(text)
        self.actor.setPlaceholderText(self.tr("e.g. user:kim or agency:112 room"))
        self.target.setPlaceholderText(self.tr("camera, incident or share id"))
        self.action.lineEdit().setPlaceholderText(self.tr("every action"))
        current = self.period.currentIndex()
        self.period.clear()
        names = {
            1: self.tr("Last hour"),
            24: self.tr("Last 24 hours"),
            24 * 7: self.tr("Last 7 days"),
            24 * 30: self.tr("Last 30 days"),
        }
        for hours in PERIODS_H:
            self.period.addItem(names[hours], hours)
        self.period.setCurrentIndex(max(0, current))
        self.search_button.setText(self.tr("Search"))
        self.export_button.setText(self.tr("Export CSV…"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Time"),
                self.tr("Who"),
                self.tr("Action"),
                self.tr("Target"),
                self.tr("From"),
                self.tr("Details"),
            ]
        )


def install_audit_panel(window: QMainWindow, controller: Any) -> AuditPanel | None:
    """Dock the audit panel for a supervisor, administrator or auditor (an operator has no right to the
    trail: no panel). Call before the window restores its arrangement. Queries run as the controller's tasks."""
    session = controller.client.session
    if session is None or session.role not in (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        return None
    vm = AuditVM()
    panel = AuditPanel(vm)
    dock = QDockWidget(window)
    dock.setObjectName("dock_audit")
    dock.setWidget(panel)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )

    panel.retranslate()  # now inside the dock: its title too
    add_dock = getattr(window, "add_dock", None)
    if add_dock is not None:
        add_dock("audit", dock)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    async def search(query: AuditQuery) -> None:
        try:
            rows = await controller.client.audit(query.params(datetime.now(UTC)))
        except EngineError as exc:
            panel.show_error(exc.message)
            return
        vm.set_rows(query, rows)
        panel.refresh()

    async def export(query: AuditQuery, path: str) -> None:
        try:
            data = await controller.client.audit_csv({**query.params(datetime.now(UTC)), "limit": 100_000})
            # A plain thread, not the loop's default executor (under qasync a QThread left running at exit).
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-export") as pool:
                await asyncio.get_running_loop().run_in_executor(pool, Path(path).write_bytes, data)
        except EngineError as exc:
            panel.show_error(exc.message)
            return
        except OSError as exc:
            panel.show_error(
                panel.tr("Could not write {path}: {error}").format(path=path, error=exc.strerror)
            )
            return
        panel.show_exported(path, len(data))

    panel.searchRequested.connect(lambda q: controller.spawn(search(q), "audit-search"))
    panel.exportRequested.connect(lambda q, p: controller.spawn(export(q, p), "audit-export"))
    return panel

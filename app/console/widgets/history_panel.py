"""Incident history: closed incidents searched by period, service, place and text (read-only).

The panel only draws and asks; :func:`install_history_panel` runs its queries as tasks the console's
controller owns. Nothing here changes an incident; the engine audits every search and every opened one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.client.errors import EngineError
from app.console.viewmodels.history import (
    NEAR_FROM,
    PERIODS_H,
    RADIUS_M_DEFAULT,
    RADIUS_M_MAX,
    RADIUS_M_MIN,
    HistoryQuery,
    HistoryVM,
)
from app.console.widgets.labels import priority_name, service_name
from app.domain.enums import Service

__all__ = ["HistoryPanel", "install_history_panel"]


class HistoryPanel(QWidget):
    """Signals: searchRequested(HistoryQuery); openRequested(str): show a closed incident's timeline."""

    searchRequested = Signal(object)
    openRequested = Signal(str)

    def __init__(self, vm: HistoryVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.period = QComboBox(self)
        self.service = QComboBox(self)
        self.place = QLineEdit(self)
        self.text = QLineEdit(self)
        # A place circle: around the selected incident or the map's centre, N metres.
        self.near_from = QComboBox(self)
        self.near_from.setObjectName("historyNearFrom")
        self.radius = QSpinBox(self)
        self.radius.setObjectName("historyRadius")
        self.radius.setRange(RADIUS_M_MIN, RADIUS_M_MAX)
        self.radius.setSingleStep(100)
        self.radius.setValue(RADIUS_M_DEFAULT)
        self.near_from.currentIndexChanged.connect(
            lambda _i: self.radius.setEnabled(bool(self.near_from.currentData()))
        )
        self.radius.setEnabled(False)
        near_row = QHBoxLayout()
        near_row.setContentsMargins(0, 0, 0, 0)
        near_row.addWidget(self.near_from, 1)
        near_row.addWidget(self.radius)
        self.search_button = QPushButton(self)
        self.search_button.setDefault(True)
        self.status = QLabel(self)
        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("historyTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # At most 500 rows, measured once per search: times, service and priority fit their text; the
        # title takes the rest.
        for col in range(4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(5, 220)
        self.timeline = QPlainTextEdit(self)
        self.timeline.setReadOnly(True)
        self.timeline.setObjectName("historyTimeline")

        self._labels = [QLabel(self) for _ in range(5)]
        form = QFormLayout()
        for label, field in zip(
            self._labels[:4], (self.period, self.service, self.place, self.text), strict=True
        ):
            form.addRow(label, field)
        form.addRow(self._labels[4], near_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.status, 1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)

        self.search_button.clicked.connect(self.request_search)
        self.place.returnPressed.connect(self.request_search)
        self.text.returnPressed.connect(self.request_search)
        self.table.itemSelectionChanged.connect(self._on_selected)
        self.retranslate()

    def query(self) -> HistoryQuery:
        return HistoryQuery(
            hours=int(self.period.currentData() or PERIODS_H[1]),
            service=str(self.service.currentData() or ""),
            place=self.place.text(),
            text=self.text.text(),
            near_from=str(self.near_from.currentData() or ""),
            radius_m=self.radius.value(),
        )

    def request_search(self) -> None:
        self.status.setText(self.tr("Searching…"))
        self.searchRequested.emit(self.query())

    def refresh(self) -> None:
        rows = self.vm.rows
        self.table.setRowCount(len(rows))
        for r, inc in enumerate(rows):
            texts = self.vm.row_texts(inc)
            texts[2] = service_name(texts[2])
            texts[3] = priority_name(inc.priority)
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, inc.id)
                self.table.setItem(r, col, item)
        self.timeline.clear()
        self.status.setText(self.tr("%n closed incident(s)", "", len(rows)))

    def show_detail(self) -> None:
        self.timeline.setPlainText("\n".join(self.vm.timeline_lines()))

    def show_error(self, message: str) -> None:
        self.status.setText(message)

    def _on_selected(self) -> None:
        items = self.table.selectedItems()
        if items:
            self.openRequested.emit(str(items[0].data(Qt.ItemDataRole.UserRole)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        for label, text in zip(
            self._labels,
            (
                self.tr("Closed within"),
                self.tr("Service"),
                self.tr("Place"),
                self.tr("Text"),
                self.tr("Near"),
            ),
            strict=True,
        ):
            label.setText(text)
        current = self.period.currentData()
        self.period.clear()
        names = {
            24: self.tr("Last 24 hours"),
            24 * 7: self.tr("Last 7 days"),
            24 * 30: self.tr("Last 30 days"),
            24 * 365: self.tr("Last year"),
        }
        for h in PERIODS_H:
            self.period.addItem(names[h], h)
        self.period.setCurrentIndex(max(0, self.period.findData(current or PERIODS_H[1])))
        svc = self.service.currentData()
        self.service.clear()
        self.service.addItem(self.tr("All services"), "")
        for s in Service:
            self.service.addItem(service_name(s.value), s.value)
        self.service.setCurrentIndex(max(0, self.service.findData(svc or "")))
        near = self.near_from.currentData()
        self.near_from.clear()
        near_names = {
            "": self.tr("Anywhere"),
            "incident": self.tr("Around the selected incident"),
            "map": self.tr("Around the map's centre"),
        }
        for key in NEAR_FROM:
            self.near_from.addItem(near_names[key], key)
        self.near_from.setCurrentIndex(max(0, self.near_from.findData(near or "")))
        self.radius.setSuffix(self.tr(" m"))
        self.radius.setToolTip(self.tr("Radius of the circle, in metres"))
        self.place.setPlaceholderText(self.tr("part of the address, e.g. 중앙시장"))
        self.text.setPlaceholderText(self.tr("part of the title or the agency's number"))
        self.search_button.setText(self.tr("Search"))
        if self.vm.query is not None:  # the last result's count, in the new language
            self.status.setText(self.tr("%n closed incident(s)", "", len(self.vm.rows)))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Closed"),
                self.tr("Received"),
                self.tr("Service"),
                self.tr("Priority"),
                self.tr("Title"),
                self.tr("Place"),
            ]
        )
        self.timeline.setPlaceholderText(self.tr("Select an incident to read its timeline (read-only)."))
        dock = self.parentWidget()
        if isinstance(dock, QDockWidget):
            dock.setWindowTitle(self.tr("Incident history"))


def install_history_panel(
    window: QMainWindow,
    controller: Any,
    map_centre: Callable[[], Awaitable[tuple[float, float] | None]] | None = None,
) -> HistoryPanel:
    """Dock the history panel (tabbed with the health panel; in the View menu). Call before the window
    restores its arrangement. Queries run as the controller's tasks.

    A search by place circle is centred on the selected incident (the controller's detail) or on the
    map's centre (``map_centre``, asked of the map page without blocking)."""
    vm = HistoryVM()
    panel = HistoryPanel(vm)
    dock = QDockWidget(window)
    dock.setObjectName("dock_history")
    dock.setWidget(panel)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    panel.retranslate()
    add_dock = getattr(window, "add_dock", None)
    if add_dock is not None:
        add_dock("history", dock)
    else:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    async def centre(query: HistoryQuery) -> tuple[float, float] | None:
        if query.near_from == "incident":
            detail = controller.detail.detail
            return (detail.location.lat, detail.location.lon) if detail is not None else None
        if query.near_from == "map" and map_centre is not None:
            return await map_centre()
        return None

    async def search(query: HistoryQuery) -> None:
        if query.needs_centre:
            where = await centre(query)
            if where is None:
                panel.show_error(
                    panel.tr("Select an incident first: the circle is drawn around it.")
                    if query.near_from == "incident"
                    else panel.tr("The map is not ready yet: search again in a moment.")
                )
                return
            query = query.centred(*where)
        try:
            rows = await controller.client.incident_history(query.params(datetime.now(UTC)))
        except EngineError as exc:
            panel.show_error(exc.message)
            return
        vm.set_rows(query, rows)
        panel.refresh()

    async def open_incident(incident_id: str) -> None:
        try:
            vm.detail = await controller.client.get_incident(incident_id)
        except EngineError as exc:
            panel.show_error(exc.message)
            return
        panel.show_detail()

    panel.searchRequested.connect(lambda q: controller.spawn(search(q), "history-search"))
    panel.openRequested.connect(lambda i: controller.spawn(open_incident(i), "history-open"))
    return panel

"""The incident queue: a table over :class:`IncidentQueueVM`, a service filter, and the new-emergency cue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.console.viewmodels.queue import GoldenTimeState, IncidentQueueVM
from app.console.widgets.labels import priority_name, service_name, status_name
from app.domain.enums import IncidentStatus, Service
from app.formats.api import IncidentOut

__all__ = ["IncidentTableModel", "QueuePanel"]

COL_PRIORITY, COL_GOLDEN, COL_TITLE, COL_SERVICE, COL_STATUS, COL_ASSIGNEE, COL_RECEIVED = range(7)
REFRESH_COALESCE_MS = 250
FLASH_MS = 10_000
IdRole = Qt.ItemDataRole.UserRole + 1

_OVERDUE_BG = QColor("#7f1d1d")
_OVERDUE_FG = QColor("#fee2e2")
_P1_BG = QColor("#451a03")
_GOLDEN_FG = {
    GoldenTimeState.RUNNING: QColor("#fbbf24"),
    GoldenTimeState.OVERDUE: QColor("#fecaca"),
    GoldenTimeState.MET: QColor("#86efac"),
    GoldenTimeState.LATE: QColor("#fca5a5"),
}


class IncidentTableModel(QAbstractTableModel):
    """Rows are :attr:`IncidentQueueVM.rows`; refreshes are coalesced (at most one every 250 ms) and the
    golden-time column repaints every second."""

    def __init__(self, vm: IncidentQueueVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self._rows = list(vm.rows)
        self._version = vm.version
        self.refreshes = 0
        self._bold = QFont()
        self._bold.setBold(True)
        self._brushes: dict[str, QBrush] = {
            "overdue_bg": QBrush(_OVERDUE_BG),
            "overdue_fg": QBrush(_OVERDUE_FG),
            "p1_bg": QBrush(_P1_BG),
            **{state.value: QBrush(colour) for state, colour in _GOLDEN_FG.items()},
        }
        self._cache: list[_RowView | None] = [None] * len(self._rows)
        self._stamp = 0
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(REFRESH_COALESCE_MS)
        self._pending.timeout.connect(self.refresh_now)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()

    # ------------------------------------------------------------------ updates

    @Slot()
    def schedule_refresh(self) -> None:
        if not self._pending.isActive():
            self._pending.start()

    @Slot()
    def refresh_now(self) -> None:
        self._pending.stop()
        if self._version == self.vm.version:
            return
        self._version = self.vm.version
        self.refreshes += 1
        self.beginResetModel()
        self._rows = list(self.vm.rows)
        self._cache = [None] * len(self._rows)
        self.endResetModel()

    @Slot()
    def _on_tick(self) -> None:
        self._stamp += 1  # golden-time texts and colours are recomputed for the rows the view shows
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_GOLDEN), self.index(len(self._rows) - 1, COL_RECEIVED))

    def retranslate(self) -> None:
        self._stamp += 1
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    def stop(self) -> None:
        self._tick.stop()
        self._pending.stop()

    # ------------------------------------------------------------------ model

    def incident_id(self, row: int) -> str | None:
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, incident_id: str) -> int | None:
        for i, inc in enumerate(self._rows):
            if inc.id == incident_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 7

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            self.tr("Priority"),
            self.tr("Golden time"),
            self.tr("Incident"),
            self.tr("Service"),
            self.tr("Status"),
            self.tr("Assignee"),
            self.tr("Received"),
        ][section]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        row = index.row()
        if not 0 <= row < len(self._rows) or not index.isValid():
            return None
        cached = self._cache[row]
        if cached is None or cached.stamp != self._stamp:
            cached = self._cache[row] = self._render_row(self._rows[row])
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cached.texts[col]
        if role == Qt.ItemDataRole.BackgroundRole:
            return cached.background
        if role == Qt.ItemDataRole.ForegroundRole:
            return cached.golden_fg if col == COL_GOLDEN and cached.foreground is None else cached.foreground
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if cached.bold else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN.get(col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                cached.tooltip_priority
                if col == COL_PRIORITY
                else cached.tooltip
                if col in (COL_TITLE, COL_SERVICE)
                else None
            )
        if role == IdRole:
            return self._rows[row].id
        return None

    def _render_row(self, inc: IncidentOut) -> _RowView:
        """Everything the view may ask about a row, computed once per refresh or clock tick."""
        g = self.vm.golden_time(inc)
        if g.state is GoldenTimeState.MET:
            golden = self.tr("met ({left} left)").format(left=g.text)
        elif g.state is GoldenTimeState.LATE:
            golden = self.tr("late ({over})").format(over=g.text)
        elif g.state is GoldenTimeState.OVERDUE:
            golden = self.tr("OVERDUE {over}").format(over=g.text)
        else:
            golden = g.text
        title = inc.title
        if inc.exercise:
            drill = self.tr("DRILL")
            title = f"[{drill}] {title}"
        service = service_name(inc.service)
        texts = [
            f"P{inc.priority}",
            golden,
            title,
            service,
            status_name(inc.status),
            inc.assignee or "",
            _local_time(inc.created_at),
        ]
        overdue = g.state is GoldenTimeState.OVERDUE
        new = inc.status is IncidentStatus.NEW
        background = (
            self._brushes["overdue_bg"]
            if overdue
            else self._brushes["p1_bg"]
            if inc.priority == 1 and new
            else None
        )
        return _RowView(
            stamp=self._stamp,
            texts=texts,
            background=background,
            foreground=self._brushes["overdue_fg"] if overdue else None,
            golden_fg=self._brushes[g.state.value],
            bold=new,
            tooltip=f"{inc.title}\n{service}\n{inc.location.address or ''}".strip(),
            tooltip_priority=priority_name(inc.priority),
        )


@dataclass(slots=True)
class _RowView:
    stamp: int
    texts: list[str]
    background: QBrush | None
    foreground: QBrush | None
    golden_fg: QBrush
    bold: bool
    tooltip: str
    tooltip_priority: str


_ALIGN: dict[int, int] = {
    COL_PRIORITY: int(Qt.AlignmentFlag.AlignCenter),
    COL_GOLDEN: int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    COL_RECEIVED: int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
}


def _local_time(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M")


class _QueueTable(QTableView):
    """Enter opens the selected incident (the selection already does); Space too."""

    activatedRow = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            idx = self.currentIndex()
            if idx.isValid():
                self.activatedRow.emit(idx.row())
                event.accept()
                return
        super().keyPressEvent(event)


class QueuePanel(QWidget):
    """The queue dock's content.

    Signals:
        incidentSelected(str): the operator selected an incident (keyboard or mouse).
        incidentActivated(str): Enter or double-click on an incident (focus its detail).
        jumpRequested(): the operator pressed the banner's "Jump" button (the jump key does the same).
    """

    incidentSelected = Signal(str)
    incidentActivated = Signal(str)
    jumpRequested = Signal()

    def __init__(self, vm: IncidentQueueVM, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.model = IncidentTableModel(vm, self)
        self._selected: str | None = None

        self.filter = QComboBox(self)
        self.filter.setObjectName("queueServiceFilter")
        self.counts = QLabel(self)
        self.flash = QLabel(self)
        self.flash.setObjectName("emergencyFlash")
        self.flash.setStyleSheet(
            "QLabel#emergencyFlash { background: #b91c1c; color: white; font-weight: bold; padding: 6px; border-radius: 3px; }"
        )
        self.flash.setWordWrap(True)
        self.jump = QPushButton(self)
        self.jump.setObjectName("emergencyJump")
        self.jump.clicked.connect(self.jumpRequested)
        self.jump_key = "Ctrl+J"
        self._flash_box = QWidget(self)
        box = QHBoxLayout(self._flash_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.flash, 1)
        box.addWidget(self.jump)
        self._flash_box.hide()
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.setInterval(FLASH_MS)
        self._flash_timer.timeout.connect(self._flash_box.hide)
        self._filter_label = QLabel(self)

        self.table = _QueueTable(self)
        self.table.setObjectName("incidentQueue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        # Fixed widths from the font, not ResizeToContents: that measures every row on every refresh,
        # which stalls the event loop when incidents arrive by the dozen.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.activatedRow.connect(self._on_activated_row)
        self.table.doubleClicked.connect(lambda idx: self._on_activated_row(idx.row()))
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._restore_selection)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._filter_label)
        top.addWidget(self.filter)
        top.addStretch(1)
        top.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._flash_box)
        layout.addWidget(self.table, 1)
        self.filter.currentIndexChanged.connect(self._on_filter_changed)
        self._counts_timer = QTimer(self)
        self._counts_timer.setInterval(1000)
        self._counts_timer.timeout.connect(self._update_counts)
        self._counts_timer.start()
        self.retranslate()

    # ------------------------------------------------------------------ API

    @Slot()
    def on_queue_changed(self) -> None:
        self.model.schedule_refresh()

    def show_emergency(self, title: str) -> None:
        self.flash.setText(self.tr("NEW EMERGENCY: {title}").format(title=title))
        self._retranslate_jump()
        self._flash_box.show()
        self._flash_timer.start()

    def hide_emergency(self) -> None:
        self._flash_timer.stop()
        self._flash_box.hide()

    @property
    def emergency_shown(self) -> bool:
        return not self._flash_box.isHidden()

    def _retranslate_jump(self) -> None:
        self.jump.setText(self.tr("Jump to it ({key})").format(key=self.jump_key))

    def select(self, incident_id: str) -> None:
        self.model.refresh_now()
        row = self.model.row_of(incident_id)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def selected_id(self) -> str | None:
        return self._selected

    def set_service_filter(self, service: str | None) -> None:
        i = self.filter.findData(service or "")
        if i >= 0:
            self.filter.setCurrentIndex(i)

    def stop(self) -> None:
        self.model.stop()
        self._counts_timer.stop()
        self._flash_timer.stop()

    # ------------------------------------------------------------------ slots

    @Slot()
    def _on_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        iid = self.model.incident_id(rows[0].row()) if rows else None
        if iid is not None and iid != self._selected:
            self._selected = iid
            self.incidentSelected.emit(iid)

    @Slot(int)
    def _on_activated_row(self, row: int) -> None:
        iid = self.model.incident_id(row)
        if iid:
            self.incidentActivated.emit(iid)

    @Slot()
    def _remember_selection(self) -> None:
        pass  # self._selected already holds the id

    @Slot()
    def _restore_selection(self) -> None:
        if self._selected is None:
            return
        row = self.model.row_of(self._selected)
        if row is None:
            return
        sm = self.table.selectionModel()
        sm.blockSignals(True)
        idx = self.model.index(row, 0)
        sm.setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        sm.blockSignals(False)
        self.table.viewport().update()
        self._update_counts()

    @Slot(int)
    def _on_filter_changed(self, _index: int) -> None:
        value = self.filter.currentData()
        self.vm.set_service_filter({Service(value)} if value else None)
        self.model.refresh_now()

    @Slot()
    def _update_counts(self) -> None:
        total = self.vm.open_count
        overdue = self.vm.overdue_count()
        text = self.tr("%n open", "", total)
        if overdue:
            text += " · " + self.tr("%n overdue", "", overdue)
        if self.counts.text() != text:
            self.counts.setText(text)

    def _size_columns(self) -> None:
        fm = self.table.fontMetrics()
        bold = QFont(self.table.font())
        bold.setBold(True)
        fmb = QFontMetrics(bold)
        header = self.table.horizontalHeader()
        samples = {
            COL_PRIORITY: ["P1"],
            COL_GOLDEN: [
                self.tr("OVERDUE {over}").format(over="-10:00"),
                self.tr("met ({left} left)").format(left="4:00"),
            ],
            COL_SERVICE: ["119 dispatch"],
            COL_STATUS: [status_name(IncidentStatus.NEW.value)],  # acknowledged rows are not bold
            COL_ASSIGNEE: ["op"],
            COL_RECEIVED: ["00:00"],
        }
        for col, texts in samples.items():
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            width = max([fmb.horizontalAdvance(t) for t in texts] + [fm.horizontalAdvance(title)]) + 14
            header.resizeSection(col, min(width, 150))

    # ------------------------------------------------------------------ language

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self._filter_label.setText(self.tr("Service:"))
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItem(self.tr("All services"), "")
        for s in Service:
            self.filter.addItem(service_name(s.value), s.value)
        i = self.filter.findData(current or "")
        self.filter.setCurrentIndex(max(0, i))
        self.filter.blockSignals(False)
        self.table.setToolTip(self.tr("Open incidents by priority, then age. Enter opens one."))
        self._retranslate_jump()
        self.model.retranslate()
        self._size_columns()
        self._update_counts()

"""Saving an incident's evidence bundle from the console (supervisors and auditors).

A button in the incident detail (supervisors: auditors do not read incidents) and one under the provision
ledger (supervisors and auditors: the selected provision's incident) ask where to save through a file dialog
opened window-modal with ``open()`` (no nested event loop), then download ``GET
/api/v1/incidents/{id}/evidence`` as a controller task and write the file on a worker thread: nothing blocks
the Qt thread. The engine audits every export.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

from app.client.errors import EngineError
from app.domain.enums import Role

__all__ = ["EXPORTERS", "EvidenceSaver", "install_evidence"]

EXPORTERS = (Role.SUPERVISOR, Role.AUDITOR)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


class EvidenceSaver(QObject):
    """Asks for a file name, downloads the bundle, writes it.

    Signals:
        saved(str incident_id, str path): the bundle is on disk.
        failed(str message): the engine refused or the file could not be written.
        message(str text): what to tell the user (saved or failed), translated.
        busyChanged(bool): a download is running (buttons disable themselves meanwhile).
    """

    saved = Signal(str, str)
    failed = Signal(str)
    message = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, controller: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self._controller = controller
        self._parent = parent
        self.dialog: QFileDialog | None = None
        self.busy = False

    def request(self, incident_id: str) -> None:
        """Open the save dialog for ``incident_id``'s bundle (window-modal, returns at once)."""
        if self.busy or not incident_id:
            return
        dlg = QFileDialog(self._parent, self.tr("Save the evidence bundle"))
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setFileMode(QFileDialog.FileMode.AnyFile)
        dlg.setNameFilter(self.tr("Evidence bundle (*.zip)"))
        dlg.setDefaultSuffix("zip")
        dlg.selectFile(f"evidence-{incident_id}.zip")
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dlg.fileSelected.connect(lambda path: self._chosen(incident_id, path))
        dlg.finished.connect(dlg.deleteLater)
        dlg.finished.connect(self._forget_dialog)
        self.dialog = dlg
        dlg.open()

    @Slot()
    def _forget_dialog(self) -> None:
        self.dialog = None

    def _chosen(self, incident_id: str, path: str) -> None:
        if path:
            self._controller.spawn(self.save(incident_id, Path(path)), "evidence-save")

    async def save(self, incident_id: str, path: Path) -> None:
        self._set_busy(True)
        try:
            data = await self._controller.client.incident_evidence(incident_id)
            # A plain thread, not the loop's default executor (under qasync a QThread left running at exit).
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-save") as pool:
                await asyncio.get_running_loop().run_in_executor(pool, _write, path, data)
        except EngineError as exc:
            self._fail(self.tr("Evidence bundle refused: {reason}").format(reason=exc.message))
            return
        except OSError as exc:
            self._fail(self.tr("Cannot write {path}: {reason}").format(path=str(path), reason=str(exc)))
            return
        finally:
            self._set_busy(False)
        self.saved.emit(incident_id, str(path))
        self.message.emit(
            self.tr("Evidence bundle of {id} saved to {path}").format(id=incident_id, path=str(path))
        )

    def _fail(self, text: str) -> None:
        self.failed.emit(text)
        self.message.emit(text)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busyChanged.emit(busy)


class EvidenceButton(QPushButton):
    """ "Evidence bundle…" for the incident ``current()`` names (None: disabled)."""

    def __init__(self, saver: EvidenceSaver, current: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evidenceBundle")
        self._saver = saver
        self._current = current
        self.clicked.connect(self._on_clicked)
        saver.busyChanged.connect(lambda _b: self.update_state())
        self.retranslate()

    @Slot()
    def _on_clicked(self) -> None:
        incident_id = self._current()
        if incident_id:
            self._saver.request(incident_id)

    def update_state(self) -> None:
        self.setEnabled(bool(self._current()) and not self._saver.busy)

    def retranslate(self) -> None:
        self.setText(self.tr("Evidence bundle…"))
        self.setToolTip(
            self.tr(
                "Save this incident's signed evidence bundle (EIDO, timeline, shares and their legal basis, "
                "viewings, audit with chain proof); check it with: main.py incident verify FILE.zip"
            )
        )

    def changeEvent(self, event: Any) -> None:
        from PySide6.QtCore import QEvent

        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


def install_evidence(
    window: Any, controller: Any, detail_panel: Any, provision_panel: Any
) -> EvidenceSaver | None:
    """Add the evidence buttons for supervisors (incident detail and ledger) and auditors (ledger)."""
    session = controller.client.session
    if session is None or session.role not in EXPORTERS:
        return None
    saver = EvidenceSaver(controller, window)
    saver.message.connect(lambda text: window.statusBar().showMessage(text, 10000))
    if session.role == Role.SUPERVISOR and detail_panel is not None:

        def current_incident() -> str | None:
            d = detail_panel.vm.detail
            return None if d is None else str(d.id)

        button = EvidenceButton(saver, current_incident, detail_panel)
        detail_panel.add_action(button)
        detail_panel.evidence_btn = button
        controller.detailChanged.connect(lambda *_: button.update_state())
        button.update_state()
    if provision_panel is not None and provision_panel.ledger is not None:
        ledger_button = EvidenceButton(saver, provision_panel.selected_ledger_incident, provision_panel)
        provision_panel.add_ledger_action(ledger_button)
        provision_panel.evidence_btn = ledger_button
        provision_panel.ledger.itemSelectionChanged.connect(lambda: ledger_button.update_state())
        ledger_button.update_state()
    return saver

"""The console's bridge between Qt and the engine: owns the client, the live feed, the view models and
every asyncio task; widgets call its slots and redraw on its signals (DESIGN §3, §7: no ``async`` on
QWidget subclasses, nothing blocking on the Qt thread, every task owned and cancelled on close).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from pydantic import ValidationError
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot
from qasync import asyncSlot

from app.client import EngineClient, EngineError, EngineUnreachable, FeedState, LiveFeed, NotAuthenticated
from app.client.engine import StreamKind
from app.client.live import Backoff
from app.console.map.markers import incident_map_payload
from app.console.tasks import OwnedTasks
from app.console.viewmodels.detail import IncidentDetailVM
from app.console.viewmodels.health import HealthVM
from app.console.viewmodels.queue import IncidentQueueVM
from app.domain.clock import Clock, SystemClock
from app.domain.enums import AgencyKind, IncidentStatus
from app.formats.api import (
    AgencyHealthOut,
    AgencyOut,
    CameraOut,
    IncidentOut,
    LegalBasisOut,
    LiveEvent,
    ReportIn,
    ShareIn,
)

__all__ = ["ConsoleController"]

_log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

HEALTH_REFRESH_MS = 30_000
DETAIL_RELOAD_DEBOUNCE_MS = 250
DIRECTORY_RELOAD_DEBOUNCE_MS = 1_000


def owned(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., Coroutine[Any, Any, None]]:
    """Register the running task with the controller (so ``aclose`` cancels it) and turn engine errors
    into ``actionFailed`` instead of exceptions escaping into Qt."""

    @functools.wraps(fn)
    async def inner(self: ConsoleController, *args: Any, **kwargs: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.adopt(task)
        try:
            await fn(self, *args, **kwargs)
        except asyncio.CancelledError:
            raise
        except EngineError as exc:
            self._report_failure(exc)
        except Exception:
            _log.exception("console action %s failed", fn.__name__)
            self.actionFailed.emit(
                QCoreApplication.translate(
                    "ConsoleController", "Something went wrong; see the log for details."
                )
            )
        finally:
            if task is not None:
                self._tasks.release(task)

    return inner


class ConsoleController(QObject):
    """Everything the console knows and does, without widgets.

    Signals:
        loggedIn(str): the session is open (user name).
        loginFailed(str): the login was refused or the engine could not be reached (message).
        connectionChanged(str, str): live feed state (:class:`FeedState` value) and a reason.
        queueChanged(): the incident queue view model changed.
        newEmergency(str): a new emergency arrived live (incident id): flash and sound.
        detailChanged(): the incident detail view model changed (or another incident was selected).
        healthChanged(): cameras or agencies changed.
        camerasLoaded(): the camera list was (re)loaded.
        cameraStateChanged(str, bool): a camera went online (True) or offline, per the engine's relay.
        incidentOnMap(dict): add or move an incident marker (payload for MapView.upsert_incident).
        incidentOffMap(str): remove an incident marker.
        mediaChanged(): the media grant changed (tiles should re-resolve their URLs).
        actionFailed(str): an operator action failed (message for the operator).
        actionDone(str): an operator action succeeded (message for the status bar).
        reportCreated(str): a report was sent (its snapshot URL, or "").
        wallRequested(str, list): "send to the wall display" for an incident and its cameras (the wall
            control panel takes it over onto the chosen wall: ``app/console/wall/panel.py``).
    """

    loggedIn = Signal(str)
    loginFailed = Signal(str)
    connectionChanged = Signal(str, str)
    queueChanged = Signal()
    newEmergency = Signal(str)
    detailChanged = Signal()
    healthChanged = Signal()
    camerasLoaded = Signal()
    cameraStateChanged = Signal(str, bool)
    incidentOnMap = Signal(dict)
    incidentOffMap = Signal(str)
    mediaChanged = Signal()
    actionFailed = Signal(str)
    actionDone = Signal(str)
    reportCreated = Signal(str)
    wallRequested = Signal(str, list)

    def __init__(
        self,
        client: EngineClient,
        *,
        clock: Clock | None = None,
        media_url_template: str | Callable[[str, str], str] | None = None,
        feed_backoff: Backoff | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.clock = clock or SystemClock()
        self.queue = IncidentQueueVM(self.clock)
        self.detail = IncidentDetailVM(self.clock)
        self.health = HealthVM()
        self.agencies: list[AgencyOut] = []
        self.media_url_template = media_url_template
        self._grant: str | None = None
        self._tasks = OwnedTasks("console", _log)
        self._selected: str | None = None
        self._legal_bases: list[LegalBasisOut] | None = None
        self._closing = False
        self.feed = LiveFeed(
            client.base_url,
            lambda: client.token,
            on_event=self._on_live_event,
            on_resync=self._on_resync,
            on_state=self._on_feed_state,
            backoff=feed_backoff,
            verify=getattr(client, "verify", True),
        )
        self.events_applied = 0
        self.reloads = 0
        self._detail_timer = self._single_shot(DETAIL_RELOAD_DEBOUNCE_MS, self._on_detail_timer)
        self._directory_timer = self._single_shot(DIRECTORY_RELOAD_DEBOUNCE_MS, self._on_directory_timer)
        self._agencies_timer = self._single_shot(DIRECTORY_RELOAD_DEBOUNCE_MS, self._on_agencies_timer)
        self.agency_reloads = 0
        self._cameras_imported = False  # a register import changed the cameras: reload them for the map
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(HEALTH_REFRESH_MS)
        # The periodic refresh ages the agencies' health (oldest undelivered); cameras come as deltas.
        self._health_timer.timeout.connect(self._on_agencies_timer)

    def _single_shot(self, ms: int, slot: Callable[[], None]) -> QTimer:
        t = QTimer(self)
        t.setSingleShot(True)
        t.setInterval(ms)
        t.timeout.connect(slot)
        return t

    # ------------------------------------------------------------------ state

    @property
    def username(self) -> str:
        s = self.client.session
        return s.username if s else ""

    @property
    def selected_incident(self) -> str | None:
        return self._selected

    @property
    def connected(self) -> bool:
        return self.feed.state is FeedState.CONNECTED

    @property
    def has_media(self) -> bool:
        return self._grant is not None or self.media_url_template is not None

    def stream_urls(self, camera_id: str) -> tuple[str, str] | None:
        """(main, sub) URLs for a tile, or None while there is no media access."""
        template = self.media_url_template
        if callable(template):
            return template(camera_id, "main"), template(camera_id, "sub")
        if template is not None:
            main, sub = (
                template.format(base_url=self.client.base_url, camera_id=camera_id, stream=s)
                for s in ("main", "sub")
            )
            return main, sub
        if self._grant is None:
            return None
        kinds: tuple[StreamKind, StreamKind] = ("main", "sub")
        main, sub = (self.client.stream_url(self._grant, camera_id, k) for k in kinds)
        return main, sub

    def camera(self, camera_id: str) -> CameraOut | None:
        return self.health.camera(camera_id)

    # ------------------------------------------------------------------ lifetime

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run a coroutine as a task the controller owns (cancelled by :meth:`aclose`)."""
        return self._tasks.spawn(coro, name)

    async def login(self, username: str, password: str) -> bool:
        """Open the session, then start the live feed (which triggers the first full load)."""
        try:
            session = await self.client.login(username, password)
        except NotAuthenticated:
            self.loginFailed.emit(self.tr("Unknown user or wrong password."))
            return False
        except EngineUnreachable as exc:
            self.loginFailed.emit(self.tr("The engine cannot be reached: {detail}").format(detail=exc.detail))
            return False
        except EngineError as exc:
            self.loginFailed.emit(exc.message)
            return False
        self.loggedIn.emit(session.username)
        if session.role == "auditor":
            # An auditor reads the audit trail and the provision ledger only (their panels load them): the
            # live feed, the queue and the directory are refused to that role, so they are not started.
            return True
        if self.feed.running:  # a new session after the old one expired: resume where the feed stopped
            self.feed.reconnect_now()
            if self._grant is not None:  # grants die with their session
                self._grant = None
                self.spawn(self._refresh_grant(), name="media-grant")
        else:
            self.feed.start()
        self._health_timer.start()
        return True

    async def aclose(self) -> None:
        """Stop the feed and every task; end the session (best effort)."""
        self._closing = True
        for t in (self._detail_timer, self._directory_timer, self._agencies_timer, self._health_timer):
            t.stop()
        await self.feed.stop()
        await self._tasks.aclose()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.logout(), 2)
        await self.client.aclose()

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    # ------------------------------------------------------------------ loading

    async def reload_all(self) -> None:
        """Incidents, agencies, cameras and the media grant (after login or a resync)."""
        self.reloads += 1
        incidents, agencies, cameras = await asyncio.gather(
            self.client.list_incidents(status=["new", "acknowledged"]),
            self.client.list_agencies(),
            self.client.all_cameras(),
        )
        self.queue.reset(incidents)
        for inc in incidents:
            self.incidentOnMap.emit(incident_map_payload(inc))
        self._set_agencies(agencies)
        self.health.set_cameras(cameras)
        self.camerasLoaded.emit()
        self.healthChanged.emit()
        self.queueChanged.emit()
        if self._selected is not None:
            await self._load_detail(self._selected)
        if self._grant is None and self.media_url_template is None:
            await self._refresh_grant()
        if self._legal_bases is None:  # the share dialog offers them
            with contextlib.suppress(EngineError):
                self._legal_bases = await self.client.legal_bases()
                self.detail.legal_bases = list(self._legal_bases)

    def _set_agencies(self, agencies: list[AgencyOut]) -> None:
        self.agencies = agencies
        self.detail.set_agencies(agencies)
        self.health.set_agencies(agencies)

    async def _refresh_grant(self) -> None:
        try:
            grant = await self.client.media_grant()
        except EngineError as exc:
            if not isinstance(exc, EngineUnreachable):
                _log.warning("no media grant from the engine (%s): video tiles cannot play", exc)
            return
        self._grant = grant.token
        self.mediaChanged.emit()

    async def _load_detail(self, incident_id: str) -> None:
        detail = await self.client.get_incident(incident_id)
        if self._selected != incident_id:
            return
        self.detail.set_detail(detail)
        self.detailChanged.emit()

    def _apply_agency_health(self, data: dict[str, Any]) -> bool:
        raw, agency_id = data.get("agency_health"), data.get("agency_id")
        if not isinstance(raw, dict) or not isinstance(agency_id, str):
            return False
        try:
            health = AgencyHealthOut.model_validate(raw)
        except ValidationError as exc:
            _log.warning("live: bad agency health in delivery.updated: %s", exc)
            return False
        updated = self.health.apply_agency_health(agency_id, health)
        if updated is None:
            return False
        self.agencies = [updated if a.id == agency_id else a for a in self.agencies]
        return True

    async def _reload_agencies(self) -> None:
        self.agency_reloads += 1
        self._set_agencies(await self.client.list_agencies())
        self.healthChanged.emit()
        self.detailChanged.emit()

    async def _reload_directory(self) -> None:
        agencies, cameras = await asyncio.gather(self.client.list_agencies(), self.client.all_cameras())
        self._set_agencies(agencies)
        self.health.set_cameras(cameras)
        self.healthChanged.emit()
        if self._cameras_imported:  # the map and the camera list follow a register import
            self._cameras_imported = False
            self.camerasLoaded.emit()
        self.detailChanged.emit()

    # ------------------------------------------------------------------ live events

    def _on_resync(self) -> None:
        self.spawn(self._guarded(self.reload_all()), name="reload-all")

    async def _guarded(self, coro: Awaitable[None]) -> None:
        try:
            await coro
        except EngineError as exc:
            self._report_failure(exc)

    def _on_feed_state(self, state: FeedState, reason: str) -> None:
        self.connectionChanged.emit(str(state), reason)

    def _on_live_event(self, event: LiveEvent) -> None:
        self.events_applied += 1
        kind = event.type
        data = event.data
        incident_id = data.get("incident_id") or (data.get("id") if kind.startswith("incident.") else None)
        if kind.startswith("incident."):
            try:
                inc = IncidentOut.model_validate(data)
            except ValidationError as exc:
                _log.warning("live: bad %s event: %s", kind, exc)
                return
            change = self.queue.upsert(inc)
            if inc.status is IncidentStatus.CLOSED:
                self.incidentOffMap.emit(inc.id)
            else:
                self.incidentOnMap.emit(incident_map_payload(inc))
            self.queueChanged.emit()
            if change.new_emergency:
                self.newEmergency.emit(inc.id)
            if inc.id == self._selected:
                self.detail.apply_incident(inc)
                self.detailChanged.emit()
                self._detail_timer.start()
        elif kind == "delivery.updated":
            if incident_id == self._selected and not self.detail.apply_delivery_update(data):
                self._detail_timer.start()
            elif incident_id == self._selected:
                self.detailChanged.emit()
            # The event may carry the agency's health after the change: a delta, never a reload (issue 17).
            # Without it (the engine sends it at most once a second per agency) an ``agency.health`` follows.
            if "agency_health" in data:
                if self._apply_agency_health(data):
                    self.healthChanged.emit()
                else:
                    self._agencies_timer.start()  # an agency this console does not know yet
        elif kind.startswith(("share.", "report.")):
            if incident_id == self._selected:
                self._detail_timer.start()
        elif kind == "agency.health":  # the dispatcher's health of an agency, pushed as it is
            if self._apply_agency_health(data):
                self.healthChanged.emit()
            else:
                self._agencies_timer.start()
        elif kind.startswith("agency."):
            self._agencies_timer.start()  # the agency list only (tens of rows), never the cameras
        elif kind == "cameras.imported":
            self._cameras_imported = True
            self._directory_timer.start()
        elif kind == "camera.updated":
            camera_id, online = str(data.get("camera_id", "")), bool(data.get("online"))
            if self.health.set_camera_online(camera_id, online):
                self.cameraStateChanged.emit(camera_id, online)
                self.healthChanged.emit()

    @Slot()
    def _on_detail_timer(self) -> None:
        if self._selected is not None and not self._closing:
            self.spawn(self._guarded(self._load_detail(self._selected)), name="load-detail")

    @Slot()
    def _on_agencies_timer(self) -> None:
        if not self._closing and self.client.token:
            self.spawn(self._guarded(self._reload_agencies()), name="reload-agencies")

    @Slot()
    def _on_directory_timer(self) -> None:
        if not self._closing and self.client.token:
            self.spawn(self._guarded(self._reload_directory()), name="reload-directory")

    # ------------------------------------------------------------------ operator actions

    def _report_failure(self, exc: EngineError) -> None:
        if isinstance(exc, EngineUnreachable):
            msg = self.tr("The engine is unreachable; the action was not carried out. ({detail})").format(
                detail=exc.detail
            )
        elif isinstance(exc, NotAuthenticated):
            msg = self.tr("The session has expired; please log in again.")
        else:
            msg = self.tr("The engine refused the action: {detail}").format(detail=exc.message)
        _log.info("action failed: %s", exc)
        self.actionFailed.emit(msg)

    @asyncSlot(str)
    @owned
    async def select_incident(self, incident_id: str) -> None:
        if incident_id == self._selected and self.detail.incident_id == incident_id:
            return
        self._selected = incident_id or None
        if not incident_id:
            self.detail.set_detail(None)
            self.detailChanged.emit()
            return
        inc = self.queue.get(incident_id)
        if inc is not None:
            self.incidentOnMap.emit(incident_map_payload(inc))
        await self._load_detail(incident_id)

    @asyncSlot()
    @owned
    async def acknowledge(self) -> None:
        if (iid := self._selected) is not None:
            self._apply(await self.client.acknowledge(iid))
            self.actionDone.emit(self.tr("Incident acknowledged."))

    @asyncSlot(str)
    @owned
    async def assign(self, assignee: str) -> None:
        if (iid := self._selected) is not None:
            self._apply(await self.client.assign(iid, assignee))
            self.actionDone.emit(self.tr("Incident assigned to {name}.").format(name=assignee or "-"))

    @asyncSlot(int)
    @owned
    async def set_priority(self, priority: int) -> None:
        if (iid := self._selected) is not None:
            self._apply(await self.client.set_priority(iid, priority))
            self.actionDone.emit(self.tr("Priority changed to {p}.").format(p=priority))

    @asyncSlot(str)
    @owned
    async def close_incident(self, note: str) -> None:
        if (iid := self._selected) is not None:
            self._apply(await self.client.close_incident(iid, note or None))
            self.actionDone.emit(self.tr("Incident closed."))

    async def _legal_basis_for_selected(self) -> str:
        """The legal basis the settings give the selected incident's service (else the first listed)."""
        if self._legal_bases is None:
            self._legal_bases = await self.client.legal_bases()
            self.detail.legal_bases = list(self._legal_bases)
        detail = self.detail.detail
        service = "" if detail is None else str(detail.service)
        for b in self._legal_bases:
            if service in b.services:
                return b.id
        return self._legal_bases[0].id if self._legal_bases else ""

    @asyncSlot(str, list, int, str, dict)
    @owned
    async def share(
        self,
        agency_id: str,
        camera_ids: list[str],
        minutes: int,
        purpose: str,
        terms: dict[str, Any] | None = None,
    ) -> None:
        if (iid := self._selected) is None:
            return
        terms = terms or {}
        basis = terms.get("legal_basis") or await self._legal_basis_for_selected()
        try:
            body = ShareIn(
                agency_id=agency_id,
                camera_ids=camera_ids,
                minutes=minutes,
                purpose=purpose,
                legal_basis=basis,
                requesting_officer=str(terms.get("requesting_officer") or ""),
                case_number=str(terms.get("case_number") or ""),
            )
        except ValidationError:
            self.actionFailed.emit(
                self.tr("A share needs an agency, at least one camera, 1–1440 minutes and a purpose.")
            )
            return
        await self.client.create_share(iid, body)
        await self._load_detail(iid)
        self.actionDone.emit(
            self.tr("Video shared with {agency}.").format(agency=self.detail.agency_name(agency_id))
        )

    @asyncSlot(str, int, str)
    @owned
    async def extend_share(self, share_id: str, minutes: int, reason: str) -> None:
        out = await self.client.extend_share(share_id, minutes, reason)
        if self._selected:
            await self._load_detail(self._selected)
        if out.pending_extension_minutes is not None:
            self.actionDone.emit(
                self.tr("Extension by {m} minutes asked; a supervisor decides.").format(m=minutes)
            )
        else:
            self.actionDone.emit(self.tr("Share extended by {m} minutes.").format(m=minutes))

    @asyncSlot(str)
    @owned
    async def revoke_share(self, share_id: str) -> None:
        await self.client.revoke_share(share_id)
        if self._selected:
            await self._load_detail(self._selected)
        self.actionDone.emit(self.tr("Share revoked."))

    @asyncSlot(str)
    @owned
    async def report_to_119(self, camera_id: str) -> None:
        """One step: report the selected incident to the 119 fire room, with the camera's snapshot."""
        if (iid := self._selected) is None:
            return
        fire = self.detail.agencies_of_kind(AgencyKind.FIRE)
        if not fire:
            self.actionFailed.emit(self.tr("No 119 fire agency is configured."))
            return
        cam = camera_id or (self.detail.camera_ids() or [None])[0]
        report = await self.client.create_report(
            iid,
            ReportIn(
                agency_id=fire[0].id,
                kind="fire",
                note=self.tr("Reported from the operator console"),
                camera_id=cam,
            ),
        )
        await self._load_detail(iid)
        self.reportCreated.emit(report.snapshot_url or "")
        self.actionDone.emit(self.tr("Reported to {agency}.").format(agency=fire[0].name))

    @asyncSlot(str)
    @owned
    async def retry_delivery(self, delivery_id: str) -> None:
        await self.client.retry_delivery(delivery_id)
        if self._selected:
            await self._load_detail(self._selected)
        self.actionDone.emit(self.tr("Delivery queued again."))

    @asyncSlot()
    @owned
    async def reload(self) -> None:
        await self.reload_all()

    @Slot()
    def send_to_wall_display(self) -> None:
        """Stub until the wall display exists: announces the request."""
        if self._selected is not None:
            self.wallRequested.emit(self._selected, self.detail.camera_ids())

    def reconnect_now(self) -> None:
        self.feed.reconnect_now()

    def _apply(self, inc: IncidentOut) -> None:
        self.queue.upsert(inc)
        if inc.status is IncidentStatus.CLOSED:
            self.incidentOffMap.emit(inc.id)
        else:
            self.incidentOnMap.emit(incident_map_payload(inc))
        self.queueChanged.emit()
        if inc.id == self._selected:
            self.detail.apply_incident(inc)
            self.detailChanged.emit()
            self._detail_timer.start()

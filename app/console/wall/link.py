"""A wall display's link to the engine: wall key, media grant, the wall's layout and the live feed.

:class:`WallLink` is the bridge between Qt and asyncio for the wall (DESIGN §7: no ``async`` on QWidget
subclasses; every task and timer owned here and stopped by :meth:`WallLink.aclose`). A wall PC holds a wall
key (``python main.py walls add WALL-1``), never an operator account: the key reads this wall, the cameras
its layout shows and the incident its takeover shows, nothing else. It is built for a process nobody
watches: when the key is refused (a 401 from any call, or the live feed refusing it) it checks it again
slowly (an administrator may issue a new key file), renews the media grant before it runs out, keeps
retrying while the engine
is unreachable, and re-reads the layout whenever the live feed comes back (events alone could have been
missed while the engine restarted). Failures are logged once when they start and once when they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.client import (
    Backoff,
    EngineClient,
    EngineError,
    EngineUnreachable,
    FeedState,
    LiveFeed,
    NotAuthenticated,
)
from app.client.engine import MediaGrant, camera_stream_url
from app.client.walls import WallsApi
from app.console.tasks import OwnedTasks
from app.console.wall.model import LinkState, WallDisplayModel
from app.formats.api import CameraOut, IncidentOut, LiveEvent

__all__ = ["WallLink"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

# Re-read the layout this often even when the live feed is quiet (a missed event heals by itself).
POLL_MS = 60_000
# Renew the media grant this long before it expires; log in again first if the session ends sooner.
GRANT_MARGIN_S = 600.0
SESSION_MARGIN_S = 1800.0
GRANT_RETRY_MS = 15_000
# While the key is refused, try again this often (the key may be fixed on the engine).
LOGIN_REFUSED_RETRY_S = 30.0
# How long a new layout waits for its cameras' names before it is shown anyway (with ids).
NAMES_WAIT_S = 2.0


class WallLink(QObject):
    """Keeps a :class:`WallDisplayModel` in step with the engine.

    Signals:
        wallChanged(): the layout changed (or the wall turned out not to exist).
        linkChanged(): the connection state (and so the header's notice) changed.
        mediaChanged(): a new media grant: tiles must take their new URLs.
        camerasChanged(): names and positions of the wall's cameras arrived.
        incidentChanged(): the incident on the wall (for the map) arrived or changed.
    """

    wallChanged = Signal()
    linkChanged = Signal()
    mediaChanged = Signal()
    camerasChanged = Signal()
    incidentChanged = Signal()

    def __init__(
        self,
        engine_url: str,
        wall_id: str,
        key: str | Callable[[], str],
        *,
        model: WallDisplayModel | None = None,
        client: EngineClient | None = None,
        feed_backoff: Backoff | None = None,
        login_backoff: Backoff | None = None,
        ca: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model or WallDisplayModel(wall_id)
        self.wall_id = wall_id
        self.client = client or EngineClient(engine_url, user_agent="GoldenTime-wall", verify=ca or True)
        self.walls = WallsApi(self.client)
        # A callable is asked again at every check, so a new key file is picked up without a restart.
        self._key: Callable[[], str] = key if callable(key) else (lambda: key)
        self._grant: MediaGrant | None = None
        self.cameras: dict[str, CameraOut] = {}
        self.incident: IncidentOut | None = None
        self._tasks = OwnedTasks("wall", _log)
        self._login_lock = asyncio.Lock()
        self._login_backoff = login_backoff or Backoff(1.0, 15.0)
        self._fetching = False
        self._fetch_again = False
        self._closing = False
        self.logins = 0
        self.fetches = 0
        self.feed = LiveFeed(
            self.client.base_url,
            lambda: self.client.token,
            on_event=self._on_live_event,
            on_resync=self._on_resync,
            on_state=self._on_feed_state,
            backoff=feed_backoff or Backoff(0.5, 10.0),
            verify=self.client.verify,
        )
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._on_poll_timer)
        self._grant_timer = QTimer(self)
        self._grant_timer.setSingleShot(True)
        self._grant_timer.timeout.connect(self._on_grant_timer)

    # ------------------------------------------------------------------ public

    @property
    def has_media(self) -> bool:
        return self._grant is not None

    @property
    def grant_token(self) -> str | None:
        return self._grant.token if self._grant else None

    def stream_urls(self, camera_id: str) -> tuple[str, str] | None:
        """(main, sub) relay URLs for a tile, or None while there is no media grant."""
        if self._grant is None:
            return None
        base, token = self.client.base_url, self._grant.token
        return camera_stream_url(base, token, camera_id, "main"), camera_stream_url(
            base, token, camera_id, "sub"
        )

    def camera_name(self, camera_id: str) -> str:
        cam = self.cameras.get(camera_id)
        return cam.name if cam else camera_id

    def start(self) -> None:
        """Log in (retrying until it works), get a media grant, then follow the live feed."""
        self.spawn(self._start(), name="wall-start")

    def reconnect_now(self) -> None:
        self.feed.reconnect_now()

    @Slot()
    def renew_media(self) -> None:
        """Ask for a new media grant now (no tile can play: the grant may have been revoked or expired)."""
        if not self._closing and self.client.token and self.model.link is LinkState.CONNECTED:
            self.spawn(self._refresh_grant(), name="wall-grant")

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run a coroutine as a task the link owns (cancelled by :meth:`aclose`)."""
        return self._tasks.spawn(coro, name)

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        """Stop timers, the feed and every task; end the session (best effort, briefly)."""
        self._closing = True
        self._poll_timer.stop()
        self._grant_timer.stop()
        await self.feed.stop()
        await self._tasks.aclose()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.logout(), 2)
        await self.client.aclose()
        self._set_link(LinkState.STOPPED, "stopped")

    # ------------------------------------------------------------------ tasks

    async def _start(self) -> None:
        if not self._key().strip():
            _log.error(
                "wall %s: no wall key (python main.py walls add %s); cannot start", self.wall_id, self.wall_id
            )
            self._set_link(LinkState.NO_ACCOUNT, "")
            return
        await self._login()
        await self._refresh_grant()
        self.feed.start()
        self._poll_timer.start()

    async def _login(self, refused_token: str | None = None, *, relogin: bool = False) -> bool:
        """Present the wall key and check that the engine takes it, retrying with backoff while the engine
        is unreachable and slowly while it refuses the key.

        With ``relogin``, nothing happens (False) when another task already replaced ``refused_token``.
        """
        async with self._login_lock:
            if relogin and self.client.token is not None and self.client.token != refused_token:
                return False
            failing = False
            while not self._closing:
                self.client.use_key(self._key().strip())
                try:
                    await self.walls.get_wall(self.wall_id)
                except NotAuthenticated as exc:
                    if not failing:
                        _log.error("wall %s: the engine refused the wall key: %s", self.wall_id, exc.message)
                    failing = True
                    self._set_link(LinkState.LOGIN_REFUSED, exc.message)
                    await asyncio.sleep(LOGIN_REFUSED_RETRY_S)
                    continue
                except EngineError as exc:
                    if exc.status != 404:  # 404: the key works; the wall has no layout yet
                        if not failing:
                            _log.warning("wall %s: cannot reach the engine yet: %s", self.wall_id, exc)
                        failing = True
                        self._set_link(LinkState.OFFLINE, exc.message)
                        await asyncio.sleep(self._login_backoff.next_delay())
                        continue
                self.logins += 1
                self._login_backoff.reset()
                if failing or self.logins > 1:
                    _log.info("wall %s: the engine takes the wall key", self.wall_id)
                if self.logins == 1 and self.model.link in (LinkState.LOGIN_REFUSED, LinkState.OFFLINE):
                    self._set_link(LinkState.STARTING, "")
                elif self.model.link is LinkState.LOGIN_REFUSED:
                    self._set_link(LinkState.UNAUTHORIZED, "")
                return True
            return False

    async def _relogin(self, refused_token: str | None) -> None:
        """The key was refused: check it again (once, however many calls noticed it)."""
        if self.client.token is None or self.client.token == refused_token:
            self._set_link(LinkState.UNAUTHORIZED, "session refused")
            if await self._login(refused_token, relogin=True):
                await self._refresh_grant(relogin=False)
        if self.feed.state is FeedState.CONNECTED:
            self._set_link(LinkState.CONNECTED, "")  # the feed never dropped: nothing else to wait for
        else:
            self.feed.reconnect_now()  # with the new token

    async def _authed(self, call: Callable[[], Awaitable[T]]) -> T:
        """A REST call; a 401 logs in again and tries once more."""
        token = self.client.token
        try:
            return await call()
        except NotAuthenticated:
            _log.info("wall %s: the wall key was refused; checking it again", self.wall_id)
            await self._relogin(token)
            return await call()

    async def _refresh_grant(self, *, relogin: bool = True) -> None:
        session = self.client.session
        if relogin and session is not None and _seconds_until(session.expires_at) < SESSION_MARGIN_S:
            await self._relogin(self.client.token)  # a grant cannot outlive its session
            return
        try:
            grant = await self._authed(self.client.media_grant)
        except EngineError as exc:
            _log.warning("wall %s: no media grant yet (%s); retrying", self.wall_id, exc)
            self._grant_timer.start(GRANT_RETRY_MS)
            return
        self._grant = grant
        left = _seconds_until(grant.expires_at) - GRANT_MARGIN_S
        self._grant_timer.start(int(max(60.0, min(left, 86_400.0)) * 1000))
        self.mediaChanged.emit()

    async def _fetch_wall(self) -> None:
        """``GET`` the wall (one at a time; a request made meanwhile runs once more after)."""
        if self._fetching:
            self._fetch_again = True
            return
        self._fetching = True
        try:
            while True:
                self._fetch_again = False
                await self._fetch_wall_once()
                if not self._fetch_again:
                    return
        finally:
            self._fetching = False

    async def _fetch_wall_once(self) -> None:
        self.fetches += 1
        version = self.model.version
        try:
            wall = await self._authed(lambda: self.walls.get_wall(self.wall_id))
        except EngineUnreachable as exc:
            _log.debug("wall %s: layout not fetched: %s", self.wall_id, exc)
            return
        except EngineError as exc:
            if exc.status == 404:
                if self.model.version != version:
                    return  # a wall.updated created the wall while the answer travelled
                if self.model.wall_missing():
                    _log.info("wall %s does not exist on the engine yet: waiting for a layout", self.wall_id)
                    self.wallChanged.emit()
                    self.linkChanged.emit()
            else:
                _log.warning("wall %s: cannot read the layout: %s", self.wall_id, exc)
            return
        self._apply_wall_changed(self.model.apply_wall(wall))

    def _apply_wall_changed(self, changed: bool) -> None:
        if not changed:
            return
        view = self.model.view
        _log.info(
            "wall %s: layout %s (%s, %d cameras%s)",
            self.wall_id,
            view.grid if view else "-",
            view.mode if view else "-",
            len(view.camera_ids) if view else 0,
            ", map" if view and view.show_map else "",
        )
        self.spawn(self._announce(), name="wall-details")

    async def _announce(self) -> None:
        """Tell the window, once the new cameras' names are known (tiles then start once, named), then load
        the incident shown on the map."""
        view = self.model.view
        if view is not None:
            missing = [c for c in view.camera_ids if c not in self.cameras]
            if missing:
                loading = self.spawn(self._load_cameras(missing), name="wall-cameras")
                await asyncio.wait({loading}, timeout=NAMES_WAIT_S)  # it goes on (owned) if slow
        self.wallChanged.emit()
        self.linkChanged.emit()  # "waiting for a layout" may have ended
        await self._load_incident()

    async def _load_cameras(self, camera_ids: list[str]) -> None:
        results = await asyncio.gather(
            *(self._authed(lambda c=c: self.client.get_camera(c)) for c in camera_ids), return_exceptions=True
        )
        got = [r for r in results if isinstance(r, CameraOut)]
        for cam in got:
            self.cameras[cam.id] = cam
        if got:
            self.camerasChanged.emit()

    async def _load_incident(self) -> None:
        view = self.model.view
        if view is None:
            return
        iid = view.incident_id if view.show_map else None
        if iid is None:
            if self.incident is not None:
                self.incident = None
                self.incidentChanged.emit()
            return
        if self.incident is not None and self.incident.id == iid:
            return
        try:
            detail = await self._authed(lambda: self.client.get_incident(iid))
        except EngineError as exc:
            _log.warning("wall %s: cannot load incident %s for the map: %s", self.wall_id, iid, exc)
            return
        for cam in detail.cameras:
            self.cameras.setdefault(cam.id, cam)
        if self.model.view is not None and self.model.view.incident_id == iid:
            self.incident = detail
            self.camerasChanged.emit()
            self.incidentChanged.emit()

    # ------------------------------------------------------------------ live feed

    def _on_resync(self) -> None:
        if not self._closing:
            self.spawn(self._fetch_wall(), name="wall-fetch")

    def _on_live_event(self, event: LiveEvent) -> None:
        if event.type == "wall.updated":
            self._apply_wall_changed(self.model.apply_event(event))
        elif event.type.startswith("incident.") and self.incident is not None:
            if event.data.get("id") == self.incident.id:
                try:
                    inc = IncidentOut.model_validate(event.data)
                except ValueError:
                    return
                self.incident = inc
                self.incidentChanged.emit()

    def _on_feed_state(self, state: FeedState, reason: str) -> None:
        if self._closing:
            return
        if state is FeedState.CONNECTED:
            back = self.model.link is not LinkState.STARTING
            self._set_link(LinkState.CONNECTED, "")
            if back:
                _log.info("wall %s: engine reachable again; reloading the layout", self.wall_id)
            if self.feed.connections > 1:
                self.spawn(self._fetch_wall(), name="wall-refetch")
            if self._grant is None:
                self.spawn(self._refresh_grant(), name="wall-grant")
        elif state is FeedState.OFFLINE:
            self._set_link(LinkState.OFFLINE, reason)
        elif state is FeedState.UNAUTHORIZED:
            self.spawn(self._relogin(self.client.token), name="wall-relogin")

    def _set_link(self, state: LinkState, reason: str) -> None:
        before = self.model.link
        if self.model.set_link(state, reason):
            if state is LinkState.OFFLINE and before is LinkState.CONNECTED:
                _log.warning("wall %s: engine unreachable (%s); retrying", self.wall_id, reason)
            self.linkChanged.emit()

    # ------------------------------------------------------------------ timers

    @Slot()
    def _on_poll_timer(self) -> None:
        if not self._closing and self.client.token:
            self.spawn(self._fetch_wall(), name="wall-poll")

    @Slot()
    def _on_grant_timer(self) -> None:
        if not self._closing:
            self.spawn(self._refresh_grant(), name="wall-grant")


def _seconds_until(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()

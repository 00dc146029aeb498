"""What every service needs, built once by the composition root (app/engine/server.py)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.camera import Camera, CameraRegister
from app.domain.camera_index import CameraIndex
from app.domain.clock import Clock
from app.domain.enums import Purpose, Service
from app.engine.agency_policy import RateLimiter
from app.engine.auth import KeyCache, SessionPolicy
from app.engine.refusals import RefusalLog
from app.engine.sensor_readings import SensorReadings
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.store import share_tokens
from app.store.models import CameraRow, ReportRow, ShareRow


def register_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(CameraRegister))


def register_of(row: CameraRow) -> CameraRegister | None:
    """The register's fields of a stored camera (None for a camera that came from no register)."""
    if not (row.provider or row.provider_code or row.register_no):
        return None
    return CameraRegister(**{name: getattr(row, name) for name in register_fields()})


def camera_of(row: CameraRow) -> Camera:
    return Camera(
        id=row.id,
        name=row.name,
        lat=row.lat,
        lon=row.lon,
        purpose=Purpose(row.purpose),
        direction_deg=row.direction_deg,
        fov_deg=row.fov_deg,
        stream_main=row.stream_main,
        stream_sub=row.stream_sub,
        approximate=row.approximate,
        register=register_of(row),
    )


class CameraCatalog:
    """The in-memory spatial index of cameras, reloaded when the table changes (an import by the CLI or
    another engine); the check is one cheap aggregate query at most every ``check_s`` seconds."""

    def __init__(self, read: Callable[[], AbstractContextManager[Session]], check_s: float = 2.0) -> None:
        self._read = read
        self._check_s = check_s
        self._lock = threading.Lock()
        self._index = CameraIndex()
        self._stamp: tuple[int, Any] | None = None
        self._checked = 0.0
        self.online: dict[str, bool] = {}

    def index(self) -> CameraIndex:
        now = time.monotonic()
        if now - self._checked >= self._check_s:
            self.refresh()
        return self._index

    def current(self) -> CameraIndex:
        """The index as loaded, without the staleness check (which reads the store): for the event loop."""
        return self._index

    def refresh(self, force: bool = False) -> None:
        with self._lock:
            self._checked = time.monotonic()
            with self._read() as s:
                count, newest = s.execute(
                    select(func.count(CameraRow.id), func.max(CameraRow.updated_at))
                ).one()
                stamp = (int(count), newest)
                if not force and stamp == self._stamp:
                    return
                # Retired cameras (no longer in their register) are out of every search and selection.
                rows = s.scalars(select(CameraRow).where(CameraRow.retired_at.is_(None))).all()
            self._index = CameraIndex(camera_of(r) for r in rows)
            self.online = {r.id: r.online for r in rows}
            self._stamp = stamp


@dataclass
class EngineContext:
    settings: Settings
    clock: Clock
    uow: UnitOfWorkFactory
    cameras: CameraCatalog
    base_url: Callable[[], str]
    # Verified API keys (agencies change rarely; a request should not cost a lookup).
    keys: KeyCache = field(default_factory=KeyCache)
    # Each agency's request rate (settings: agency_access.limits.requests_per_minute).
    rates: RateLimiter = field(default_factory=RateLimiter)
    # Refused logins and requests, audited in batches (app/engine/refusals.py).
    refusals: RefusalLog = field(default_factory=RefusalLog)
    # Sensor readings that open nothing, written in batches (app/engine/sensor_readings.py).
    sensor_readings: SensorReadings = field(default_factory=SensorReadings)
    # Called after a commit that chose cameras, so the media relay can open them before the first viewer.
    prewarm: Callable[[list[str]], None] = field(default=lambda ids: None)
    # Captures a report's snapshot after its transaction committed (report id, camera id); set by the server.
    capture_report_snapshot: Callable[[str, str], None] = field(default=lambda report_id, camera_id: None)
    # Where the media process answers (its own port); set by the media wiring. Default: the engine itself.
    media_base_url: Callable[[], str] | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def session_policy(self) -> SessionPolicy:
        sec = self.settings.security
        return SessionPolicy(hours=self.settings.session_hours, idle_s=sec.session_idle_minutes * 60)

    def golden_time(self, service: Service | str) -> int:
        return self.settings.golden_time_s.get(Service(service), 300)

    def _media_base(self) -> str:
        return self.media_base_url() if self.media_base_url is not None else self.base_url()

    def media_url(self, token: str, camera_id: str) -> str:
        return self.settings.media_url_template.format(
            base_url=self.base_url(), media_base_url=self._media_base(), token=token, camera_id=camera_id
        )

    def snapshot_url(self, token: str, camera_id: str) -> str:
        return self.settings.snapshot_url_template.format(
            base_url=self.base_url(), media_base_url=self._media_base(), token=token, camera_id=camera_id
        )

    def viewer_url(self, token: str) -> str:
        """The browser page of a share (``/view/{token}`` on the engine)."""
        return self.settings.viewer_url_template.format(
            base_url=self.base_url(), media_base_url=self._media_base(), token=token
        )

    def report_snapshot_url(self, report: ReportRow, session: Session, *, stored: bool = False) -> str | None:
        """Where the agency fetches the snapshot taken for a report (with the report's share token);
        ``stored``: for an outbox payload, with the token's placeholder (filled when it is sent)."""
        if report.camera_id is None or report.share_id is None:
            return None
        share = session.get(ShareRow, report.share_id)
        if share is None:
            return None
        token = self.share_placeholder(share) if stored else self.share_token(share)
        if token is None:
            return None
        return f"{self.base_url()}/media/{token}/reports/{report.id}.jpg"

    # ---------------------------------------------------------------- share tokens (only hashes stored)

    def share_token_key(self) -> bytes | None:
        return share_tokens.key_of(self.uow.db.write)

    def mint_share_token(self, share_id: str) -> tuple[str, str]:
        """(salt, token hash) for a new share (app/store/share_tokens.py)."""
        return share_tokens.mint(self.share_token_key(), share_id)

    def share_token(self, share: ShareRow) -> str | None:
        """The share's token, for an answer to someone entitled to it (None: it cannot be given out)."""
        return share_tokens.token_of(self.share_token_key(), share.id, share.token_salt, share.token_hash)

    def share_placeholder(self, share: ShareRow) -> str:
        """What a stored outbox payload carries where the share's token goes."""
        return share_tokens.placeholder(share.id, share.token_salt)

"""Async client of the engine's REST API (DESIGN §4), typed with the schemas of :mod:`app.formats.api`.

One :class:`EngineClient` per console or wall: it holds an ``httpx.AsyncClient`` (connection pool) and
the session token after :meth:`EngineClient.login`. Every call raises :class:`~app.client.errors.EngineError`
(an HTTP problem) or :class:`~app.client.errors.EngineUnreachable` (no answer), never an httpx
exception, so that the console can show one clear message.
"""

from __future__ import annotations

import logging
import ssl
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.client.errors import EngineError, EngineUnreachable, NotAuthenticated
from app.client.tls import tls_context
from app.formats.api import (
    AgencyOut,
    AuditOut,
    CameraOut,
    DeliveryOut,
    IncidentDetailOut,
    IncidentOut,
    IncidentPatchIn,
    LedgerRowOut,
    LegalBasisOut,
    ReportIn,
    ReportOut,
    SessionOut,
    ShareIn,
    ShareOut,
)
from app.formats.districts import DistrictOut

__all__ = ["SUB_STREAM_SUFFIX", "EngineClient", "MediaGrant", "StreamKind", "camera_stream_url"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
StreamKind = Literal["main", "sub"]
DEFAULT_TIMEOUT_S = 10.0
CAMERA_PAGE = 1000


class MediaGrant(BaseModel):
    """``POST /api/v1/media/grants``: a token for the console's media URLs (never the session token)."""

    token: str
    expires_at: datetime
    media_base_url: str | None = None  # the engine's media port (absent: the engine itself)


#: A camera id ending in this asks the engine's relay for the camera's sub stream (grid tiles).
SUB_STREAM_SUFFIX = "~sub"


def camera_stream_url(base_url: str, grant_token: str, camera_id: str, stream: StreamKind) -> str:
    """The relay URL a console tile plays for a camera's ``main`` or ``sub`` stream:
    ``{base}/media/{grant}/{camera}.ts`` (main) or ``{base}/media/{grant}/{camera}~sub.ts`` (sub).

    The one place that knows the media URL layout (DESIGN §4, "Media"; ``app/engine/media_wiring.py``).
    """
    base = base_url.rstrip("/")
    name = camera_id + (SUB_STREAM_SUFFIX if stream == "sub" else "")
    return f"{base}/media/{quote(grant_token, safe='')}/{quote(name, safe='~')}.ts"


class EngineClient:
    """The engine's REST API for a console or wall session.

    ``transport`` replaces the network (tests); ``timeout`` applies to every request.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "GoldenTime-console",
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        """``verify``: the CA certificate file (or an SSL context) that signs an ``https://`` engine's
        certificate (a site's private CA, ``main.py certs init``); True: the system's trust store."""
        self.base_url = base_url.rstrip("/")
        self.verify = verify
        self.media_base_url: str | None = None  # set by media_grant()
        self._token: str | None = None
        self._session: SessionOut | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            verify=tls_context(verify),
            headers={"user-agent": user_agent, "accept": "application/json"},
            # Drop idle connections well before the engine does (65 s), so a request never goes out on a
            # connection the server is closing ("Server disconnected without sending a response").
            limits=httpx.Limits(keepalive_expiry=30.0),
        )

    # ------------------------------------------------------------------ session

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def session(self) -> SessionOut | None:
        return self._session

    def use_key(self, key: str) -> None:
        """Authenticate every later call with a key (a wall PC's ``gtw_…``) instead of a session."""
        self._token = key
        self._session = None

    async def login(self, username: str, password: str) -> SessionOut:
        """``POST /api/v1/sessions``; keeps the token for every later call."""
        out = await self.call(
            "POST",
            "/api/v1/sessions",
            SessionOut,
            json={"username": username, "password": password},
            auth=False,
        )
        self._token = out.token
        self._session = out
        return out

    async def logout(self) -> None:
        """``DELETE /api/v1/sessions`` (best effort: the token is forgotten either way)."""
        if self._token is None:
            return
        if self._session is None:  # a key, not a session: nothing to end
            self._token = None
            return
        try:
            await self._request("DELETE", "/api/v1/sessions")
        except EngineError as exc:
            _log.info("logout: %s", exc)
        finally:
            self._token = None
            self._session = None

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ incidents

    async def list_incidents(
        self,
        *,
        status: list[str] | None = None,
        service: str | None = None,
        exercise: bool | None = None,
        limit: int = 500,
    ) -> list[IncidentOut]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if service:
            params["service"] = service
        if exercise is not None:
            params["exercise"] = "true" if exercise else "false"
        return await self.call("GET", "/api/v1/incidents", list[IncidentOut], params=params)

    async def get_incident(self, incident_id: str) -> IncidentDetailOut:
        return await self.call("GET", f"/api/v1/incidents/{_seg(incident_id)}", IncidentDetailOut)

    async def patch_incident(self, incident_id: str, patch: IncidentPatchIn) -> IncidentOut:
        body = patch.model_dump(mode="json", exclude_none=True)
        return await self.call("PATCH", f"/api/v1/incidents/{_seg(incident_id)}", IncidentOut, json=body)

    async def acknowledge(self, incident_id: str) -> IncidentOut:
        return await self.patch_incident(incident_id, IncidentPatchIn(status="acknowledged"))

    async def assign(self, incident_id: str, assignee: str) -> IncidentOut:
        return await self.patch_incident(incident_id, IncidentPatchIn(assignee=assignee))

    async def set_priority(self, incident_id: str, priority: int) -> IncidentOut:
        return await self.patch_incident(incident_id, IncidentPatchIn(priority=priority))

    async def close_incident(self, incident_id: str, note: str | None = None) -> IncidentOut:
        return await self.patch_incident(incident_id, IncidentPatchIn(status="closed", note=note))

    # ------------------------------------------------------------------ shares and reports

    async def create_share(self, incident_id: str, share: ShareIn) -> ShareOut:
        return await self.call(
            "POST",
            f"/api/v1/incidents/{_seg(incident_id)}/shares",
            ShareOut,
            json=share.model_dump(mode="json"),
        )

    async def extend_share(self, share_id: str, minutes: int, reason: str) -> ShareOut:
        """A supervisor's extension applies at once; an operator's waits for a supervisor."""
        return await self.call(
            "PATCH",
            f"/api/v1/shares/{_seg(share_id)}",
            ShareOut,
            json={"minutes": minutes, "reason": reason},
        )

    async def legal_bases(self) -> list[LegalBasisOut]:
        return await self.call("GET", "/api/v1/legal-bases", list[LegalBasisOut])

    async def pending_shares(self) -> list[ShareOut]:
        return await self.call("GET", "/api/v1/shares/pending", list[ShareOut])

    async def approve_share(self, share_id: str, reason: str = "") -> ShareOut:
        return await self.call(
            "POST", f"/api/v1/shares/{_seg(share_id)}/approve", ShareOut, json={"reason": reason}
        )

    async def confirm_share(self, share_id: str, reason: str = "") -> ShareOut:
        return await self.call(
            "POST", f"/api/v1/shares/{_seg(share_id)}/confirm", ShareOut, json={"reason": reason}
        )

    async def reject_share(self, share_id: str, reason: str) -> ShareOut:
        return await self.call(
            "POST", f"/api/v1/shares/{_seg(share_id)}/reject", ShareOut, json={"reason": reason}
        )

    async def ledger(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[LedgerRowOut]:
        params = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v is not None}
        return await self.call("GET", "/api/v1/ledger", list[LedgerRowOut], params=params)

    async def incident_evidence(self, incident_id: str) -> bytes:
        """``GET /api/v1/incidents/{id}/evidence``: the incident's signed evidence bundle (a zip; supervisors
        and auditors). Check it with ``python main.py incident verify FILE.zip``."""
        response = await self._request("GET", f"/api/v1/incidents/{_seg(incident_id)}/evidence", timeout=300)
        return response.content

    async def revoke_share(self, share_id: str) -> ShareOut:
        return await self.call("DELETE", f"/api/v1/shares/{_seg(share_id)}", ShareOut)

    async def create_report(self, incident_id: str, report: ReportIn) -> ReportOut:
        return await self.call(
            "POST",
            f"/api/v1/incidents/{_seg(incident_id)}/reports",
            ReportOut,
            json=report.model_dump(mode="json", exclude_none=True),
        )

    # ------------------------------------------------------------------ directory

    async def list_cameras(self, *, limit: int = CAMERA_PAGE, offset: int = 0) -> list[CameraOut]:
        return await self.call(
            "GET", "/api/v1/cameras", list[CameraOut], params={"limit": limit, "offset": offset}
        )

    async def all_cameras(self, *, page: int = CAMERA_PAGE) -> list[CameraOut]:
        """Every camera, page by page."""
        out: list[CameraOut] = []
        while True:
            batch = await self.list_cameras(limit=page, offset=len(out))
            out.extend(batch)
            if len(batch) < page:
                return out

    async def cameras_near(
        self, lat: float, lon: float, *, radius_m: float = 500, limit: int = 50
    ) -> list[CameraOut]:
        return await self.call(
            "GET",
            "/api/v1/cameras",
            list[CameraOut],
            params={"near": f"{lat},{lon}", "radius_m": radius_m, "limit": limit},
        )

    async def get_camera(self, camera_id: str) -> CameraOut:
        return await self.call("GET", f"/api/v1/cameras/{_seg(camera_id)}", CameraOut)

    async def incident_history(self, params: dict[str, Any]) -> list[IncidentOut]:
        """``GET /api/v1/history/incidents``: closed incidents (``since``, ``until``, ``service``, ``place``,
        ``near``, ``q``, ``limit``), newest closed first; every search is audited by the engine."""
        return await self.call("GET", "/api/v1/history/incidents", list[IncidentOut], params=params)

    async def districts(self, *, geometry: bool = True) -> list[DistrictOut]:
        """``GET /api/v1/districts`` (the engine's administrative districts, with their outlines)."""
        params = {"geometry": "true" if geometry else "false"}
        return await self.call("GET", "/api/v1/districts", list[DistrictOut], params=params)

    async def list_agencies(self) -> list[AgencyOut]:
        return await self.call("GET", "/api/v1/agencies", list[AgencyOut])

    async def retry_delivery(self, delivery_id: str) -> DeliveryOut:
        return await self.call("POST", f"/api/v1/deliveries/{_seg(delivery_id)}/retry", DeliveryOut)

    # ------------------------------------------------------------------ audit (supervisors and admins)

    async def audit(self, params: dict[str, Any]) -> list[AuditOut]:
        """``GET /api/v1/audit`` with ``actor``, ``action``, ``target_type``, ``target_id``, ``since``,
        ``until``, ``limit`` (newest first)."""
        return await self.call("GET", "/api/v1/audit", list[AuditOut], params=params)

    async def audit_csv(self, params: dict[str, Any]) -> bytes:
        """The same query as CSV (for a file the supervisor keeps)."""
        response = await self._request("GET", "/api/v1/audit", params={**params, "format": "csv"})
        return response.content

    # ------------------------------------------------------------------ media

    async def media_grant(self) -> MediaGrant:
        """``POST /api/v1/media/grants``: a media token tied to this session (media URLs then go to the
        media port the engine names)."""
        grant = await self.call("POST", "/api/v1/media/grants", MediaGrant)
        if grant.media_base_url:
            self.media_base_url = grant.media_base_url
        return grant

    def stream_url(self, grant_token: str, camera_id: str, stream: StreamKind) -> str:
        return camera_stream_url(self.media_base_url or self.base_url, grant_token, camera_id, stream)

    async def health(self) -> dict[str, Any]:
        return await self.call("GET", "/api/v1/health", dict[str, Any], auth=False)

    # ------------------------------------------------------------------ plumbing

    async def call(
        self, method: str, path: str, model: type[T] | Any, *, auth: bool = True, **kwargs: Any
    ) -> T:
        """One API call with this session, its answer validated as ``model`` (for API wrappers such as
        :class:`~app.client.walls.WallsApi`)."""
        response = await self._request(method, path, auth=auth, **kwargs)
        try:
            result: T = TypeAdapter(model).validate_json(response.content)
        except ValidationError as exc:
            raise EngineError(response.status_code, "Unexpected answer", f"{method} {path}: {exc}") from None
        return result

    async def _request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth and self._token:
            headers["authorization"] = f"Bearer {self._token}"
        try:
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.RemoteProtocolError:
                if method != "GET":
                    raise
                # A stale pooled connection; a read is safe to send again once.
                response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise EngineUnreachable(f"no answer from {self.base_url} in time") from None
        except httpx.TransportError as exc:
            raise EngineUnreachable(f"cannot reach {self.base_url}: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise _problem(response)
        return response


def _seg(value: str) -> str:
    return quote(value, safe="")


def _problem(response: httpx.Response) -> EngineError:
    title = response.reason_phrase or "Error"
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        raw = body.get("detail")
        if isinstance(raw, str):
            detail = raw
        elif raw is not None:
            detail = str(raw)
    if not detail:
        detail = response.text[:300] if response.text else title
    cls = NotAuthenticated if response.status_code == 401 else EngineError
    return cls(response.status_code, title, detail)

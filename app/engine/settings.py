"""The engine's one settings object: defaults, then a TOML file, then ``GOLDENTIME_*`` environment variables.

Every model forbids unknown keys, so a typo in a deployment's settings file fails at start with the key's
name instead of being silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.domain.enums import AgencyKind, SensorKind, Service
from app.engine.log_settings import LogSettings
from app.engine.provision_settings import ProvisionSettings
from app.engine.retention_settings import AuditSettings, RetentionSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorRule(_Strict):
    """What an event from a kind of sensor does: which service, which agencies, above what value."""

    kind: SensorKind
    service: Service
    agencies: list[AgencyKind]
    threshold: float | None = None  # used when the sensor itself has none; None = alarms only
    priority: Annotated[int, Field(ge=1, le=5)] = 2
    title: str


class SelectionSettings(_Strict):
    nearest_count: Annotated[int, Field(ge=1, le=32)] = 4
    nearest_radius_m: Annotated[float, Field(gt=0, le=10_000)] = 500.0
    escape_inner_m: Annotated[float, Field(ge=0)] = 300.0
    escape_outer_m: Annotated[float, Field(gt=0)] = 1200.0
    escape_count: Annotated[int, Field(ge=0, le=32)] = 6
    facility_radius_m: Annotated[float, Field(gt=0)] = 1000.0
    area_camera_limit: Annotated[int, Field(ge=1, le=2000)] = 200


class CapSignatureTrust(_Strict):
    """What an agency's CAP alerts must be signed with: its own certificate (``cert``, PEM) or any
    certificate that chains to a CA (``ca``, PEM)."""

    cert: Path | None = None
    ca: Path | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CapSignatureTrust:
        if (self.cert is None) == (self.ca is None):
            raise ValueError("a CAP signature trust names exactly one of 'cert' or 'ca'")
        return self


class CapSettings(_Strict):
    # A CAP <circle> smaller than this (a fire's location, an epicentre: radius 0) covers this radius (metres).
    min_radius_m: Annotated[float, Field(ge=0, le=50_000)] = 300.0
    # Other <geocode> valueNames (SAME, UGC, EMMA_ID, NUTS…) → the district property holding that code;
    # 행정구역코드 always selects by the district code and its hierarchy.
    geocode_properties: dict[str, str] = {}
    # An all-clear (every <info> urgency Past or responseType AllClear) of a known alert closes its incident.
    close_on_all_clear: bool = False
    # Agencies (by id, or by name) whose CAP alerts must carry a valid enveloped XML signature.
    signatures: dict[str, CapSignatureTrust] = {}


class OutboxSettings(_Strict):
    # The emergency schedule (seconds after the previous attempt), then the capped tail: see docs/DELIVERY.md.
    retry_schedule_s: list[float] = [1, 3, 10, 30, 120, 300]
    retry_tail_s: float = 600
    jitter_ratio: Annotated[float, Field(ge=0, le=0.5)] = 0.2
    max_attempts: Annotated[int, Field(ge=1)] = 20
    max_age_s: Annotated[float, Field(gt=0)] = 6 * 3600
    request_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    max_response_bytes: Annotated[int, Field(gt=0)] = 64 * 1024
    concurrency: Annotated[int, Field(ge=1, le=256)] = 96
    claim_s: Annotated[float, Field(gt=0)] = 60.0
    allowed_hosts: list[str] | None = None  # None: any host; a list: endpoints must be on these hosts
    allowed_schemes: list[str] = ["https", "http"]
    # SSRF guard (app/engine/outbox/egress.py): http only to loopback unless allow_http; private,
    # link-local and metadata addresses refused unless a network here holds them (e.g. "10.20.0.0/16").
    allow_http: bool = False
    allowed_networks: list[str] = []
    # Webhooks are rendered, signed and POSTed by a delivery sender process of its own (issue 17);
    # false: in the engine's process (the engine records outcomes either way).
    sender_process: bool = True


class MediaSettings(_Strict):
    """The media process (DESIGN §2, §8 2026-12-05): its port, its public address, its caches."""

    port: Annotated[int, Field(ge=0, le=65535)] | None = None  # None or 0: any free port
    public_base_url: str | None = None  # what viewers use to reach the media port; default http://host:port
    gop_cache: bool = True  # new viewers start from the cached GOP (off: at the next keyframe)
    prewarm: bool = True  # open the chosen cameras when an incident is created
    batch_ms: Annotated[int, Field(ge=0, le=1000)] = 100  # read all cameras per this many ms (0: per frame)


class CameraImportSettings(_Strict):
    """``[cameras]``: how ``cameras import`` reads a city's own list (see docs/CAMERAS.md)."""

    # The file's column -> the register's column, e.g. {"자치구" = "관리기관명", "수량" = "카메라대수"}.
    columns: dict[str, str] = {}


class SecuritySettings(_Strict):
    """Sessions, login throttling, transport (see docs/SECURITY.md)."""

    session_idle_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30.0
    # Logins verify passwords on a small pool of their own, so a flood cannot starve intake or video.
    login_workers: Annotated[int, Field(ge=1, le=16)] = 1
    login_queue: Annotated[int, Field(ge=1, le=1000)] = 8  # waiting beyond this: 429 at once
    # After this many failures from one address (or for one user) each further attempt waits twice as
    # long as the previous one: base, 2×base, 4×base … up to max.
    throttle_free_failures: Annotated[int, Field(ge=0, le=100)] = 5
    throttle_base_s: Annotated[float, Field(gt=0)] = 1.0
    throttle_max_s: Annotated[float, Field(gt=0)] = 900.0
    throttle_forget_s: Annotated[float, Field(gt=0)] = 3600.0  # failures older than this are forgotten
    # TLS for the engine's own listener (PEM files; see `python main.py certs init`).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # A plain-HTTP engine listens on loopback only unless this is true.
    allow_plain_http_remote: bool = False


class OpsSettings(_Strict):
    # Bearer token a monitoring system sends to GET /metrics; unset: metrics only to loopback callers.
    metrics_token: Annotated[str, Field(min_length=16)] | None = None


class AgencyLimits(_Strict):
    """Quotas of one agency (the defaults of every agency, or one agency's override)."""

    # The automatic share of one request holds at most this many cameras (the incident keeps them all).
    cameras_per_request: Annotated[int, Field(ge=1, le=2000)] = 64
    # Token bucket: this many requests a minute, in bursts of up to the same number (429 + Retry-After).
    requests_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] = 6000
    # Live video (enforced where the media process admits a viewer; beyond: 429, WebSocket close 4429):
    # viewers of one camera of one share at once, and streams of the agency at once over all its shares.
    viewers_per_share: Annotated[int, Field(ge=1, le=10_000)] = 8
    streams_per_agency: Annotated[int, Field(ge=1, le=100_000)] = 128


class AgencyAccessSettings(_Strict):
    """What an agency may do: the services its kind may request, and its quotas (docs/ENGINE.md, Auth)."""

    services: dict[AgencyKind, list[Service]] = {
        AgencyKind.POLICE: [Service.EMERGENCY_VIDEO_112, Service.DISPATCH_112],
        AgencyKind.FIRE: [Service.DISPATCH_119],
        AgencyKind.DISASTER: [Service.DISASTER_RESPONSE],
        AgencyKind.VULNERABLE: [Service.VULNERABLE_SOS],
    }
    # Kinds that may post CAP alerts (``POST /api/v1/alerts/cap``).
    cap_alerts: list[AgencyKind] = [AgencyKind.DISASTER]
    limits: AgencyLimits = AgencyLimits()
    # Per-agency overrides of ``limits``, by agency id.
    per_agency: dict[str, AgencyLimits] = {}

    # ``POST /api/v1/media/auth`` answers only a media gateway that sends ``Authorization: Bearer <key>``
    # whose SHA-256 (hex) is this; unset: the route refuses every caller.
    media_gateway_key_sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")] | None = None

    def limits_of(self, agency_id: str) -> AgencyLimits:
        return self.per_agency.get(agency_id, self.limits)


class Settings(_Strict):
    data_dir: Path = Path(platformdirs.user_data_dir("goldentime", appauthor=False))
    db_url: str | None = None  # default: SQLite in data_dir
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8740
    public_base_url: str | None = None  # what agencies use to reach this engine; default http://host:port
    media_url_template: str = "{media_base_url}/media/{token}/{camera_id}.ts"
    snapshot_url_template: str = "{media_base_url}/media/{token}/{camera_id}.jpg"
    viewer_url_template: str = "{base_url}/view/{token}"
    max_body_bytes: Annotated[int, Field(gt=0)] = 1024 * 1024
    request_threads: Annotated[int, Field(ge=1, le=256)] = 6
    session_hours: Annotated[float, Field(gt=0)] = 12.0
    share_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    golden_time_s: dict[Service, int] = {
        Service.EMERGENCY_VIDEO_112: 180,
        Service.DISPATCH_112: 300,
        Service.DISPATCH_119: 300,
        Service.DISASTER_RESPONSE: 600,
        Service.VULNERABLE_SOS: 180,
    }
    selection: SelectionSettings = SelectionSettings()
    outbox: OutboxSettings = OutboxSettings()
    cap: CapSettings = CapSettings()
    agency_access: AgencyAccessSettings = AgencyAccessSettings()
    media: MediaSettings = MediaSettings()
    cameras: CameraImportSettings = CameraImportSettings()
    security: SecuritySettings = SecuritySettings()
    ops: OpsSettings = OpsSettings()
    provision: ProvisionSettings = ProvisionSettings()
    retention: RetentionSettings = RetentionSettings()
    audit: AuditSettings = AuditSettings()
    log: LogSettings = LogSettings()
    sensor_rules: list[SensorRule] = [
        SensorRule(
            kind=SensorKind.EMERGENCY_BELL,
            service=Service.EMERGENCY_VIDEO_112,
            agencies=[AgencyKind.POLICE],
            priority=1,
            title="비상벨 호출",
        ),
        SensorRule(
            kind=SensorKind.WATER_LEVEL,
            service=Service.DISASTER_RESPONSE,
            agencies=[AgencyKind.DISASTER],
            threshold=3.0,
            priority=2,
            title="수위 경보 기준 초과",
        ),
        SensorRule(
            kind=SensorKind.GAS,
            service=Service.DISPATCH_119,
            agencies=[AgencyKind.FIRE],
            threshold=50.0,
            priority=1,
            title="가스 농도 기준 초과",
        ),
    ]
    sender_id: str = "goldentime@city.example"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite+pysqlite:///{self.data_dir / 'goldentime.db'}"

    def base_url(self, bound_port: int | None = None) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        scheme = "https" if self.security.tls_cert else "http"
        return f"{scheme}://{self.host}:{bound_port or self.port}"


class SettingsError(ValueError):
    pass


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Defaults ← TOML file (``path`` or ``$GOLDENTIME_CONFIG``) ← ``GOLDENTIME_<KEY>`` and
    ``GOLDENTIME_<TABLE>__<KEY>`` environment variables ← overrides (the command line).

    A refusal names each key, its line in the file and what is allowed (see ``settings_source``).
    """
    from app.engine.settings_source import environment_overrides, line_of, merge

    raw: dict[str, Any] = {}
    text = ""
    path = path or (Path(os.environ["GOLDENTIME_CONFIG"]) if os.environ.get("GOLDENTIME_CONFIG") else None)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            raw.update(tomllib.loads(text))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    sections = {
        name
        for name, f in Settings.model_fields.items()
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    }
    raw = merge(raw, environment_overrides(os.environ, set(Settings.model_fields) - sections, sections))
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        where = f" in {path}" if path else ""
        problems = []
        for e in exc.errors():
            key = ".".join(map(str, e["loc"])) or "(file)"
            line = line_of(text, e["loc"]) if text else None
            at = f" (line {line})" if line else ""
            problems.append(f"{key}{at}: {e['msg']}")
        raise SettingsError(f"invalid settings{where}: " + "; ".join(problems)) from exc

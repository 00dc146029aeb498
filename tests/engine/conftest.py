"""A real engine on 127.0.0.1 (SQLite in a temp dir, or PostgreSQL when GOLDENTIME_TEST_PG is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.domain.camera import Camera
from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, DeliveryFormat, Purpose, Role
from app.engine.auth import Principal
from app.engine.server import EngineServer
from app.engine.services.directory import add_user, create_agency, upsert_cameras
from app.engine.settings import Settings
from app.formats.api import AgencyIn

JINJU = (35.1800, 128.0800)
ADMIN = Principal(kind="system", id="test", name="test")


@dataclass
class AgencyKeys:
    id: str
    api_key: str
    webhook_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}


class EngineUnderTest:
    def __init__(self, server: EngineServer) -> None:
        self.server = server
        self.url = server.base_url
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def add_agency(
        self,
        name: str,
        kind: AgencyKind,
        endpoint: str = "http://127.0.0.1:9/hook",
        fmt: DeliveryFormat = DeliveryFormat.JSON,
    ) -> AgencyKeys:
        with self.server.uow(ADMIN) as work:
            out = create_agency(
                work.session,
                AgencyIn(name=name, kind=kind, format=fmt, endpoint=endpoint),
                self.server.settings.outbox,
                work.now,
            )
        return AgencyKeys(out.id, out.api_key, out.webhook_secret)

    def add_user(
        self, name: str = "op", role: Role = Role.OPERATOR, password: str = "correct-horse"
    ) -> dict[str, str]:
        with self.server.uow(ADMIN) as work:
            add_user(work.session, name, role, password, work.now)
        r = self.http.post("/api/v1/sessions", json={"username": name, "password": password})
        r.raise_for_status()
        return {"authorization": f"Bearer {r.json()['token']}"}

    def add_cameras(self, cameras: list[Camera]) -> None:
        with self.server.uow(ADMIN) as work:
            upsert_cameras(work, cameras)
        self.server.ctx.cameras.refresh(force=True)

    def close(self) -> None:
        self.http.close()
        self.server.stop()


def request_body(ext: str, service: str = "112-emergency-video", **extra: object) -> dict[str, object]:
    """An agency's linked-service request at Jinju's centre."""
    return {
        "service": service,
        "external_id": ext,
        "title": f"incident {ext}",
        "location": {"lat": JINJU[0], "lon": JINJU[1]},
        **extra,
    }


def grid_cameras(
    n_side: int = 10, step_deg: float = 0.001, purpose_cycle: tuple[Purpose, ...] = tuple(Purpose)
) -> list[Camera]:
    """A square grid of cameras around Jinju, ~110 m apart, purposes cycling."""
    cams = []
    for i in range(n_side):
        for j in range(n_side):
            k = i * n_side + j
            cams.append(
                Camera(
                    id=f"CAM-{k:04d}",
                    name=f"Camera {k}",
                    lat=JINJU[0] + (i - n_side / 2) * step_deg,
                    lon=JINJU[1] + (j - n_side / 2) * step_deg,
                    purpose=purpose_cycle[k % len(purpose_cycle)],
                    stream_main=f"rtsp://127.0.0.1:8554/cam{k}/main",
                    stream_sub=f"rtsp://127.0.0.1:8554/cam{k}/sub",
                )
            )
    return cams


PG_ADMIN_URL = os.environ.get(
    "GOLDENTIME_TEST_PG"
)  # e.g. postgresql+psycopg://postgres@/postgres?host=/tmp/x


def fresh_pg_database() -> str:
    """A new empty database on the throwaway cluster the test setup started."""
    import uuid

    import psycopg

    assert PG_ADMIN_URL
    name = f"gt_{uuid.uuid4().hex[:12]}"
    plain = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = PG_ADMIN_URL.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")


def sim_cameras(camera_sim: object, *, sub: bool = True) -> list[Camera]:
    """One camera per simulator camera (CAM-1, CAM-2, …), 33 m apart northwards from JINJU."""
    return [
        Camera(
            f"CAM-{i}",
            f"Camera {i}",
            JINJU[0] + i * 0.0003,
            JINJU[1],
            Purpose.CRIME,
            stream_main=c.main_url,
            stream_sub=c.sub_url if sub else "",
        )
        for i, c in enumerate(camera_sim.cameras, start=1)  # type: ignore[attr-defined]
    ]


def start_engine(
    tmp_path: Path, clock: ManualClock | None = None, db_url: str | None = None, **settings: object
) -> EngineUnderTest:
    s = Settings(data_dir=tmp_path, port=0, db_url=db_url, **settings)  # type: ignore[arg-type]
    server = EngineServer(s, clock=clock)
    server.start_in_thread()
    return EngineUnderTest(server)


def _db_params() -> list[object]:
    pg = pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not PG_ADMIN_URL, reason="no PostgreSQL (set GOLDENTIME_TEST_PG; the test setup does)"
            ),
        ],
    )
    return ["sqlite", pg]


@pytest.fixture(params=_db_params())
def db_url(request: pytest.FixtureRequest) -> str | None:
    return fresh_pg_database() if request.param == "postgresql" else None


@pytest.fixture
def engine(tmp_path: Path, db_url: str | None) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path, db_url=db_url)
    yield e
    e.close()

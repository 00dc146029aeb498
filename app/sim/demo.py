"""The demo's back end: city files, agency simulators, the camera simulator and the scenario, around a
running engine. The command line (``python main.py demo``) owns the engine and the console; this
module owns everything that plays the outside world.

Contract with the CLI
---------------------
The simulators may not import the engine or the store (import-linter), so the administrative steps
are passed in as three callables with engine-side implementations. Each is called from a worker
thread (never the event loop), one call at a time, and must raise on failure:

``create_agency(name, kind, fmt, endpoint) -> (agency_id, api_key, webhook_secret)``
    ``kind`` an :class:`~app.domain.enums.AgencyKind`, ``fmt`` a
    :class:`~app.domain.enums.DeliveryFormat`, ``endpoint`` the simulator's webhook URL
    (``http://127.0.0.1:PORT/webhook``); e.g. ``directory.create_agency(session, AgencyIn(...), …)``
    in a unit of work, returning the :class:`~app.formats.api.AgencyCreatedOut` fields.
``create_user(username, role, password) -> None``
    ``role`` a :class:`~app.domain.enums.Role`; e.g. ``directory.add_user`` in a unit of work.
``import_file(kind, path) -> None``
    ``kind`` one of ``"cameras"``, ``"facilities"``, ``"sensors"``, ``"districts"``; what ``main.py
    <kind> import PATH`` does (districts: the city's 행정동 with their real 행정구역코드). The running engine must see the rows when it returns: after cameras, refresh its
    camera catalogue (``server.ctx.cameras.refresh(force=True)``), or the first requests may find
    no cameras for up to two seconds.

:func:`prepare_demo` expects a fresh database (the demo's own data directory): it creates the four
agencies and the users without looking for earlier ones.

Using it
--------
::

    async with DemoBackend(data_dir, engine_url=url, create_agency=…, create_user=…,
                           import_file=…, progress=console_status) as demo:
        await demo.run_scenario()       # until cancelled

or ``await run_demo_backend(data_dir, engine_url=url, …)``, which does the same. Start-up:
the camera simulator (``live_cameras`` RTSP cameras on ``rtsp_port``, or any free port when that one
is taken; the first run encodes the loop clips once, later runs find them in the camera simulator's
cache and start in about a second), then the city files for that port (:func:`demo_plan`), then
:func:`prepare_demo` (agency simulators on free ports, agencies, users, imports), then the
:class:`~app.sim.scenario.Scenario`. Without the camera simulator (``camera_sim=False``, or when it
cannot start: it needs Debian's ``python3-gi`` and GStreamer) the demo runs without live video and
says so through ``progress``. ``progress`` receives short English messages on the event loop's
thread.

Demo accounts (demo only, documented in docs/DEMO.md): ``operator`` / ``goldentime`` (operator) and
``supervisor`` / ``goldentime`` (supervisor).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

from app.domain.enums import AgencyKind, DeliveryFormat, Role
from app.sim.agency import AgencySimulator
from app.sim.city import CityFiles, generate_city
from app.sim.scenario import Scenario

log = logging.getLogger("goldentime.sim.demo")

ImportKind = Literal["cameras", "facilities", "sensors", "districts"]
CreateAgency = Callable[[str, AgencyKind, DeliveryFormat, str], tuple[str, str, str]]
CreateUser = Callable[[str, Role, str], None]
ImportFile = Callable[[ImportKind, Path], None]
Progress = Callable[[str], None]

DEMO_PASSWORD: Final = "goldentime"  # demo only: never use outside the demo's throwaway database
DEFAULT_RTSP_PORT: Final = 8554


@dataclass(frozen=True, slots=True)
class DemoAgency:
    name: str
    kind: AgencyKind
    format: DeliveryFormat


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    role: Role
    password: str = DEMO_PASSWORD


DEMO_AGENCIES: Final[tuple[DemoAgency, ...]] = (
    DemoAgency("진주경찰서 112종합상황실", AgencyKind.POLICE, DeliveryFormat.JSON),
    DemoAgency("경남소방본부 119종합상황실 (진주)", AgencyKind.FIRE, DeliveryFormat.EIDO),
    DemoAgency("진주시 재난안전상황실", AgencyKind.DISASTER, DeliveryFormat.CAP),
    DemoAgency("진주시 사회적약자 보호서비스", AgencyKind.VULNERABLE, DeliveryFormat.JSON),
)
DEMO_USERS: Final[tuple[DemoUser, ...]] = (
    DemoUser("operator", Role.OPERATOR),
    DemoUser("supervisor", Role.SUPERVISOR),
)


def default_live_cameras() -> int:
    """Live simulated cameras this machine affords: 8, or 4 on a single core."""
    return 8 if (os.cpu_count() or 1) >= 2 else 4


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """What the demo creates: the city files, the agencies, the users and the imports."""

    data_dir: Path
    city_files: CityFiles
    agencies: tuple[DemoAgency, ...] = DEMO_AGENCIES
    users: tuple[DemoUser, ...] = DEMO_USERS

    @property
    def imports(self) -> tuple[tuple[ImportKind, Path], ...]:
        return self.city_files.imports

    @property
    def districts_geojson(self) -> Path:
        """For the console's map."""
        return self.city_files.districts_geojson


def demo_plan(
    data_dir: Path,
    *,
    seed: int = 7,
    cameras: int = 400,
    live_cameras: int = 8,
    rtsp_port: int = DEFAULT_RTSP_PORT,
) -> DemoPlan:
    """Write the city files under ``data_dir / "city"`` (fast, deterministic) and describe the demo."""
    files = generate_city(
        data_dir / "city", seed=seed, cameras=cameras, live_count=live_cameras, rtsp_port=rtsp_port
    )
    return DemoPlan(data_dir=data_dir, city_files=files)


@dataclass(slots=True)
class RunningAgency:
    spec: DemoAgency
    id: str
    api_key: str
    webhook_secret: str
    simulator: AgencySimulator


@dataclass(slots=True)
class PreparedDemo:
    """The agencies as created (keys, secrets) with their running simulators. :meth:`stop` stops them."""

    plan: DemoPlan
    agencies: dict[AgencyKind, RunningAgency] = field(default_factory=dict)

    @property
    def keys(self) -> dict[AgencyKind, str]:
        return {kind: a.api_key for kind, a in self.agencies.items()}

    def simulator(self, kind: AgencyKind) -> AgencySimulator:
        return self.agencies[kind].simulator

    def stop(self) -> None:
        for agency in reversed(list(self.agencies.values())):
            try:
                agency.simulator.stop()
            except RuntimeError:
                log.exception("agency simulator %s did not stop", agency.spec.name)


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def prepare_demo(
    plan: DemoPlan,
    create_agency: CreateAgency,
    create_user: CreateUser,
    import_file: ImportFile,
    *,
    progress: Progress | None = None,
    open_video: bool = False,
) -> PreparedDemo:
    """Blocking: start an agency simulator per agency on a free port, create the agency with that
    endpoint, create the users, import the city files. On failure, what was started is stopped.

    ``open_video``: the agency simulators fetch every shared link they receive (needs the engine's
    media relay)."""
    say = progress or (lambda _msg: None)
    prepared = PreparedDemo(plan)
    try:
        for spec in plan.agencies:
            port = _free_port()
            endpoint = f"http://127.0.0.1:{port}/webhook"
            agency_id, api_key, secret = create_agency(spec.name, spec.kind, spec.format, endpoint)
            sim = AgencySimulator(
                secrets=[secret], kind=spec.kind, fmt=spec.format, port=port, open_video=open_video
            )
            try:
                sim.start()
            except OSError as exc:  # the port was taken between choosing and binding
                raise RuntimeError(
                    f"agency simulator for {spec.name} cannot listen on port {port}: {exc}"
                ) from exc
            prepared.agencies[spec.kind] = RunningAgency(spec, agency_id, api_key, secret, sim)
            say(f"agency {spec.name} ({spec.kind.value}, {spec.format.value}) → {sim.webhook_url}")
        for user in plan.users:
            create_user(user.username, user.role, user.password)
        say("demo users: " + ", ".join(f"{u.username}/{u.password}" for u in plan.users) + " (demo only)")
        for kind, path in plan.imports:
            import_file(kind, path)
            say(f"imported {kind} from {path.name}")
    except BaseException:
        prepared.stop()
        raise
    return prepared


class DemoBackend:
    """Camera simulator, city, agency simulators and scenario for a running engine (see the module
    docstring). ``async with`` starts and stops it; :meth:`run_scenario` plays until cancelled."""

    def __init__(
        self,
        data_dir: Path,
        *,
        engine_url: str,
        create_agency: CreateAgency,
        create_user: CreateUser,
        import_file: ImportFile,
        progress: Progress | None = None,
        seed: int = 7,
        cameras: int = 400,
        live_cameras: int | None = None,
        rtsp_port: int = DEFAULT_RTSP_PORT,
        camera_sim: bool = True,
        speed: float = 1.0,
        open_video: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.engine_url = engine_url
        self._create_agency = create_agency
        self._create_user = create_user
        self._import_file = import_file
        self._progress = progress or (lambda _msg: None)
        self.seed = seed
        self.cameras = cameras
        self.live_cameras = live_cameras or default_live_cameras()
        self.rtsp_port = rtsp_port
        self.camera_sim_wanted = camera_sim
        self.speed = speed
        self.open_video = open_video
        self.camera_sim: Any = None  # app.sim.cameras.CameraSim once started
        self.plan: DemoPlan | None = None
        self.prepared: PreparedDemo | None = None
        self.scenario: Scenario | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def from_thread(msg: str) -> None:
            loop.call_soon_threadsafe(self._progress, msg)

        try:
            port = self.rtsp_port
            if self.camera_sim_wanted:
                port = await self._start_camera_sim()
            self.plan = demo_plan(
                self.data_dir,
                seed=self.seed,
                cameras=self.cameras,
                live_cameras=self.live_cameras,
                rtsp_port=port,
            )
            city = self.plan.city_files.city
            self._progress(
                f"city: {len(city.cameras)} cameras, {len(city.facilities)} facilities, {len(city.sensors)} sensors "
                f"in {len(city.districts)} districts (seed {self.seed})"
            )
            self.prepared = await asyncio.to_thread(
                prepare_demo,
                self.plan,
                self._create_agency,
                self._create_user,
                self._import_file,
                progress=from_thread,
                open_video=self.open_video,
            )
            self.scenario = Scenario(
                self.engine_url,
                city,
                self.prepared.keys,
                seed=self.seed,
                speed=self.speed,
                progress=self._progress,
            )
            self._progress("demo ready: the scenario starts")
        except BaseException:
            await self.stop()
            raise

    async def _start_camera_sim(self) -> int:
        """Start the camera simulator; the RTSP port it serves on (the wanted one when it is free)."""
        from app.sim.cameras import CameraSim, CameraSimError

        port = self.rtsp_port if _port_free(self.rtsp_port) else 0
        names = [f"JINJU LIVE {k + 1}" for k in range(self.live_cameras)]
        sim = CameraSim(self.live_cameras, port=port, names=names)
        self._progress(
            f"camera simulator: {self.live_cameras} live cameras (the first run encodes clips once)…"
        )
        try:
            await asyncio.to_thread(sim.start)
        except (CameraSimError, OSError) as exc:
            self._progress(f"camera simulator unavailable, no live video: {exc}")
            log.warning("camera simulator did not start: %s", exc)
            return self.rtsp_port
        self.camera_sim = sim
        self._progress(f"camera simulator ready on rtsp://{sim.host}:{sim.port}")
        return int(sim.port)

    async def run_scenario(self, *, background: bool = True) -> None:
        """Play the scenario (script, then background) until cancelled."""
        if self.scenario is None:
            raise RuntimeError("the demo back end is not started")
        await self.scenario.run(background=background)

    async def stop(self) -> None:
        """Stop in reverse order: scenario client, agency simulators, camera simulator."""
        scenario, self.scenario = self.scenario, None
        if scenario is not None:
            await scenario.aclose()
        prepared, self.prepared = self.prepared, None
        if prepared is not None:
            await asyncio.to_thread(prepared.stop)
        sim, self.camera_sim = self.camera_sim, None
        if sim is not None:
            await asyncio.to_thread(sim.stop)

    async def __aenter__(self) -> DemoBackend:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def run_demo_backend(
    data_dir: Path,
    *,
    engine_url: str,
    create_agency: CreateAgency,
    create_user: CreateUser,
    import_file: ImportFile,
    progress: Progress | None = None,
    **options: Any,
) -> None:
    """Start the demo back end for the engine at ``engine_url`` and play the scenario until cancelled;
    everything started is stopped on the way out. ``options`` are :class:`DemoBackend`'s."""
    async with DemoBackend(
        data_dir,
        engine_url=engine_url,
        create_agency=create_agency,
        create_user=create_user,
        import_file=import_file,
        progress=progress,
        **options,
    ) as demo:
        await demo.run_scenario()

"""The engine's composition root: builds every part, starts them in order and stops them in reverse.

Start: database (migrate) → camera catalog → live hub → media relay → outbox dispatcher → HTTP intake.
Stop:  HTTP intake → dispatcher (drain in-flight) → relay → live hub → database.
The same server runs standalone (``main.py engine``) or embedded in a console on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import httpx
import uvicorn
from fastapi import Depends, FastAPI

from app import __version__
from app.domain.clock import Clock, SystemClock
from app.engine.api import agency_keys, directory, incidents, intake, live, provision, walls
from app.engine.api import districts as districts_api
from app.engine.api.gate import access_gate
from app.engine.api.ops import Gauge, make_ops_router
from app.engine.api.problems import BodyGuard, install_problem_handlers
from app.engine.audit_tasks import Checkpointer, RetentionTask
from app.engine.context import CameraCatalog, EngineContext
from app.engine.gc_policy import settle_heap
from app.engine.live import LiveHub
from app.engine.metrics import EngineMetrics, MetricsMiddleware
from app.engine.outbox.dispatcher import Dispatcher
from app.engine.security_wiring import SecurityWiring
from app.engine.services.agency_admin import SecretSweeper
from app.engine.settings import Settings
from app.engine.tls import is_loopback_host
from app.engine.work import UnitOfWorkFactory
from app.store.database import Database, schema_is_current
from app.store.sealed import seal_database

_log = logging.getLogger(__name__)


class EngineServer:
    """One engine process (or thread). ``bound_port`` is known once started (port 0 picks a free one)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.bound_port: int | None = None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.database_url)
        self.db.migrate()
        # Camera passwords (in stream URLs) and webhook secrets are encrypted at rest with the data dir's key.
        seal_database(self.db.write, self.db.read, settings.data_dir)
        self.uow = UnitOfWorkFactory(self.db, self.clock)
        self.ctx = EngineContext(
            settings=settings,
            clock=self.clock,
            uow=self.uow,
            cameras=CameraCatalog(self.uow.read),
            base_url=lambda: settings.base_url(self.bound_port),
        )
        self.hub = LiveHub(self.db.reader, listen_url=None if self.db.is_sqlite else self.db.url)
        self.dispatcher = Dispatcher(self.ctx, transport=transport)
        self.uow.on_live(self.hub.notify)
        self.uow.on_outbox(self.dispatcher.wake)
        self.media = _build_media(self.ctx)
        self.security = SecurityWiring(self.ctx)
        self.metrics = EngineMetrics()
        self.secret_sweeper = SecretSweeper(self.ctx)  # previous webhook secrets erased after their overlap
        # The audit signing key is made here, at the first start; checkpoints hourly and at shutdown.
        self.checkpointer = Checkpointer(self.ctx)
        self.retention = RetentionTask(self.ctx)  # the retention policy, daily ([retention])
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._own_process = False  # run(): the engine is this process (`main.py engine`)

    # ------------------------------------------------------------------ app

    def _build_app(self) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            # Few request threads: SQLite takes one writer at a time, and forty threads fighting over the
            # GIL cost more than they overlap.
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.request_threads
            self.ctx.cameras.refresh(force=True)
            await self.security.start()
            await self.hub.start()
            if self.media is not None:
                await self.media.start(self.hub)
            await self.dispatcher.start(drop_leases=self.db.is_sqlite)
            await self.secret_sweeper.start()
            await self.checkpointer.start()
            await self.retention.start()
            _log.info("engine ready on %s", self.base_url)
            if self._own_process:  # not when embedded: the heap is the console's (or a test's) too
                settle_heap()  # app/engine/gc_policy.py
            self._ready.set()
            try:
                yield
            finally:
                await self.retention.stop()
                await self.secret_sweeper.stop()
                await self.dispatcher.stop()
                if self.media is not None:
                    await self.media.stop()
                await self.hub.stop()
                await self.security.stop()
                await self.checkpointer.stop()  # last: after the final viewings and refusals

        app = FastAPI(
            title="GoldenTime engine",
            version=__version__,
            summary="Linked-service requests in, incidents and live video out, every access audited.",
            lifespan=lifespan,
            # Every route passes the role × route rules first (app/engine/access_rules.py).
            dependencies=[Depends(access_gate)],
        )
        app.state.ctx = self.ctx
        app.state.hub = self.hub
        install_problem_handlers(app)
        self.security.install(app)
        for module in (intake, incidents, directory, live, walls, agency_keys, provision):
            app.include_router(module.router)
        app.include_router(districts_api.router)  # app/engine/api/districts.py
        app.include_router(__import__("app.engine.api.units", fromlist=["router"]).router)  # unit positions
        app.include_router(__import__("app.engine.api.history", fromlist=["router"]).router)  # closed ones
        app.include_router(__import__("app.engine.api.evidence", fromlist=["router"]).router)
        if self.media is not None:
            self.media.install(app)

        @app.get("/api/v1/health", tags=["health"])
        def health() -> dict[str, Any]:
            answer: dict[str, Any] = {"status": "ok", "version": __version__, "live_seq": self.hub.last_seq}
            if self.media is not None:
                answer["media"] = self.media.health()
            answer["delivery"] = self.dispatcher.health()  # the delivery sender process (issue 17)
            return answer

        app.include_router(make_ops_router(self.metrics, self.readiness, self._media_gauges))
        app.add_middleware(BodyGuard, max_bytes=self.settings.max_body_bytes)
        app.add_middleware(MetricsMiddleware, metrics=self.metrics)
        return app

    # ------------------------------------------------------------------ operations

    def readiness(self) -> dict[str, bool]:
        """Each check by name: the database answers, its schema is this version's, the dispatcher runs."""
        try:
            schema = schema_is_current(self.db.read)
            database = True
        except Exception:
            _log.warning("readiness: the database does not answer", exc_info=True)
            database = schema = False
        return {"database": database, "schema": schema, "dispatcher": self.dispatcher.running}

    def _media_gauges(self) -> list[Gauge]:
        if self.media is None:
            return []
        viewers, by_state = self.media.gauges()  # from what the media process last reported
        out: list[Gauge] = [("goldentime_media_viewers", "Viewers of relayed video.", {}, viewers)]
        for state, n in sorted(by_state.items()):
            out.append(
                ("goldentime_media_upstreams", "Upstream camera streams by state.", {"state": state}, n)
            )
        return out

    # ------------------------------------------------------------------ running

    def _config(self) -> uvicorn.Config:
        sec = self.settings.security
        return uvicorn.Config(
            self.app,
            # TLS from the settings (a site's private CA: `python main.py certs init`).
            ssl_certfile=str(sec.tls_cert) if sec.tls_cert else None,
            ssl_keyfile=str(sec.tls_key) if sec.tls_key else None,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
            # Longer than clients keep idle connections (the console: 30 s), so the server is never the
            # one closing a connection a client is about to reuse.
            timeout_keep_alive=65,
        )

    def _bind(self) -> socket.socket:
        """Bind before serving, so the port (0 = any free one) is known at once."""
        check_transport(self.settings)
        family, _, _, _, address = socket.getaddrinfo(
            self.settings.host, self.settings.port, type=socket.SOCK_STREAM
        )[0]
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP;
        # without it every keep-alive response waits 40 ms for a delayed ACK (Nagle). Linux also
        # inherits NODELAY from the listening socket.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        self.bound_port = sock.getsockname()[1]
        return sock

    def run(self) -> None:
        """Serve in this thread until interrupted (``main.py engine``)."""
        sock = self._bind()
        self._own_process = True
        self._server = uvicorn.Server(self._config())
        self._server.run(sockets=[sock])

    def start_in_thread(self, timeout: float = 30.0) -> str:
        """Start embedded on its own thread and loop; returns the base URL once it accepts requests."""
        sock = self._bind()
        self._server = uvicorn.Server(self._config())
        errors: list[BaseException] = []

        def target() -> None:
            assert self._server is not None
            try:
                asyncio.run(self._server.serve(sockets=[sock]))
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
            finally:
                self._ready.set()

        self._thread = threading.Thread(target=target, name="goldentime-engine", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or errors or not self._thread.is_alive():
            raise RuntimeError(f"the engine did not start: {errors[0] if errors else 'see the log'}")
        return self.base_url

    @property
    def base_url(self) -> str:
        return self.settings.base_url(self.bound_port)

    def stop(self, timeout: float = 15.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.db.dispose()


def check_transport(settings: Settings) -> None:
    """Refuse to serve plain HTTP beyond this machine unless the settings allow it; TLS needs both files."""
    sec = settings.security
    if bool(sec.tls_cert) != bool(sec.tls_key):
        raise RuntimeError("[security] tls_cert and tls_key go together: set both or neither")
    for f in (sec.tls_cert, sec.tls_key):
        if f is not None and not f.is_file():
            raise RuntimeError(f"TLS file {f} does not exist (python main.py certs init makes them)")
    if sec.tls_cert is None and not is_loopback_host(settings.host) and not sec.allow_plain_http_remote:
        raise RuntimeError(
            f"refusing to serve plain HTTP on {settings.host}: set [security] tls_cert and tls_key "
            "(python main.py certs init), or allow_plain_http_remote = true behind a TLS proxy"
        )


def _build_media(ctx: EngineContext) -> Any:
    from app.engine.media_wiring import MediaWiring

    return MediaWiring(ctx)

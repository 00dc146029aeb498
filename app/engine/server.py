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
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import httpx
import uvicorn
from fastapi import FastAPI

from app import __version__
from app.domain.clock import Clock, SystemClock
from app.engine.api import agency_keys, directory, incidents, intake, live, walls
from app.engine.api.problems import BodyGuard, install_problem_handlers
from app.engine.context import CameraCatalog, EngineContext
from app.engine.live import LiveHub
from app.engine.outbox.dispatcher import Dispatcher
from app.engine.settings import Settings
from app.engine.work import UnitOfWorkFactory
from app.store.database import Database

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
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ------------------------------------------------------------------ app

    def _build_app(self) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            # Request threads hand the GIL back and forth around every SQLite call; the default 5 ms
            # switch interval turns that into a convoy behind the one writer. 1 ms keeps p95 low.
            sys.setswitchinterval(0.001)
            # Few request threads: SQLite takes one writer at a time, and forty threads fighting over the
            # GIL cost more than they overlap.
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.request_threads
            self.ctx.cameras.refresh(force=True)
            await self.hub.start()
            if self.media is not None:
                await self.media.start(self.hub)
            await self.dispatcher.start(drop_leases=self.db.is_sqlite)
            _log.info("engine ready on %s", self.base_url)
            self._ready.set()
            try:
                yield
            finally:
                await self.dispatcher.stop()
                if self.media is not None:
                    await self.media.stop()
                await self.hub.stop()

        app = FastAPI(
            title="GoldenTime engine",
            version=__version__,
            summary="Linked-service requests in, incidents and live video out, every access audited.",
            lifespan=lifespan,
        )
        app.state.ctx = self.ctx
        app.state.hub = self.hub
        install_problem_handlers(app)
        for module in (intake, incidents, directory, live, walls, agency_keys):
            app.include_router(module.router)
        if self.media is not None:
            self.media.install(app)

        @app.get("/api/v1/health", tags=["health"])
        def health() -> dict[str, Any]:
            return {"status": "ok", "version": __version__, "live_seq": self.hub.last_seq}

        app.add_middleware(BodyGuard, max_bytes=self.settings.max_body_bytes)
        return app

    # ------------------------------------------------------------------ running

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
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


def _build_media(ctx: EngineContext) -> Any:
    from app.engine.media_wiring import MediaWiring

    return MediaWiring(ctx)

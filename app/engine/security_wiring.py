"""The engine's security parts that live as long as the server: the login pool and the refusal auditor."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from app.engine.api import users
from app.engine.context import EngineContext
from app.engine.login import LoginGuard, LoginService

_log = logging.getLogger(__name__)
FLUSH_S = 1.0


class SecurityWiring:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.login = LoginService(ctx)
        self._task: asyncio.Task[None] | None = None

    def install(self, app: FastAPI) -> None:
        app.state.login = self.login
        app.add_middleware(LoginGuard, login=self.login)
        app.include_router(users.router)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="refusal-audit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.flush)
        self.login.close()

    def flush(self) -> int:
        return self.ctx.refusals.flush(self.ctx.uow.writing, self.ctx.now())

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            if self.ctx.refusals.pending():
                await asyncio.to_thread(self.flush)

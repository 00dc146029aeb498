"""Tasks an object owns: kept while they run, logged once if they fail, all cancelled when it closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any


class OwnedTasks:
    def __init__(self, owner: str, log: logging.Logger) -> None:
        self._owner = owner
        self._log = log
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self.adopt(task)
        task.add_done_callback(self._done)
        return task

    def adopt(self, task: asyncio.Task[Any]) -> None:
        """Own a task started elsewhere (e.g. the one running an ``@asyncSlot``) until it ends."""
        self._tasks.add(task)

    def release(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)

    async def aclose(self) -> None:
        """Cancel every task (but the caller's own) and wait for them to end."""
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s task %s failed", self._owner, task.get_name(), exc_info=task.exception())

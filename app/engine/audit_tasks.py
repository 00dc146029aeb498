"""The engine's audit housekeeping: signed checkpoints of the chain head (every
``[audit] checkpoint_interval_minutes`` and at shutdown) and the daily retention run (``[retention]``).

Both run their database work on a worker thread, never on the event loop; retention deletes in batches
of short transactions (app/engine/services/retention.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from app.engine.context import EngineContext
from app.engine.services.retention import Retention
from app.store import audit_checkpoint

_log = logging.getLogger(__name__)


class Checkpointer:
    """Signs the chain head into ``audit_checkpoints`` and appends it to ``checkpoints.jsonl``."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        data_dir = ctx.settings.data_dir
        # The signing key exists from the engine's first start (0600 in the data dir).
        self._key = audit_checkpoint.signing_key(data_dir)
        self._dir = ctx.settings.audit.checkpoint_path(data_dir)
        self._task: asyncio.Task[None] | None = None

    def checkpoint(self, reason: str) -> dict[str, Any] | None:
        with self._ctx.uow.writing() as s:
            cp = audit_checkpoint.record(s, self._key, reason, self._ctx.now())
        if cp is not None:
            self._dir.mkdir(parents=True, exist_ok=True)
            with open(self._dir / "checkpoints.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({**cp, "reason": reason}, sort_keys=True) + "\n")
        return cp

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await asyncio.to_thread(self.checkpoint, "shutdown")
        except Exception:
            _log.exception("the shutdown checkpoint of the audit chain failed")

    async def _run(self) -> None:
        interval = self._ctx.settings.audit.checkpoint_interval_minutes * 60
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.checkpoint, "periodic")
            except Exception:
                _log.exception("checkpointing the audit chain failed; trying again later")


class RetentionTask:
    """Runs the retention policy every ``interval_hours`` (the first run ``first_run_delay_s`` after start)."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        s = ctx.settings
        self.retention = Retention(ctx.uow, s.retention, s.data_dir)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._ctx.settings.retention.run_in_engine:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        policy = self._ctx.settings.retention
        await asyncio.sleep(policy.first_run_delay_s)
        while True:
            try:
                out = await asyncio.to_thread(self.retention.run, self._ctx.now())
                _log.info("retention: %s", out.summary())
            except Exception:
                _log.exception("the retention run failed; trying again at the next interval")
            await asyncio.sleep(policy.interval_hours * 3600)

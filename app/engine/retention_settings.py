"""``[retention]`` and ``[audit]``: how long personal data is kept, where old audit rows are archived, and
how often the engine signs a checkpoint of the audit chain (docs/ENGINE.md "Retention")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RetentionSettings(BaseModel):
    """Days each kind of data is kept. "After close": counted from the incident's closing; an open
    incident keeps everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    track_days_after_close: Annotated[int, Field(ge=0, le=36_500)] = 30  # location tracks
    snapshot_days_after_close: Annotated[int, Field(ge=0, le=36_500)] = 30  # report snapshots (JPEG)
    webhook_days_after_close: Annotated[int, Field(ge=0, le=36_500)] = 30  # outbox rows and their payloads
    live_event_days: Annotated[int, Field(ge=1, le=36_500)] = 7  # the consoles' catch-up feed
    session_days: Annotated[int, Field(ge=1, le=36_500)] = 7  # ended or expired sessions
    sensor_reading_days: Annotated[int, Field(ge=1, le=36_500)] = 30  # sensor readings that opened nothing
    # The audit (the video-access audit and, as one chain, every other row with it): at least a year
    # (개인정보 보호법 시행령: access logs a year, two for large systems). Older rows leave only into a
    # signed archive segment in ``archive_dir``.
    audit_days: Annotated[int, Field(ge=365, le=36_500)] = 730
    archive_dir: Path | None = None  # default: <data_dir>/audit-archive
    # The engine runs the policy every ``interval_hours`` (the first run ``first_run_delay_s`` after
    # start); each transaction deletes at most ``batch_rows`` rows so the SQLite writer is never held long.
    run_in_engine: bool = True
    interval_hours: Annotated[float, Field(gt=0, le=24 * 31)] = 24.0
    first_run_delay_s: Annotated[float, Field(ge=0)] = 600.0
    batch_rows: Annotated[int, Field(ge=1, le=100_000)] = 500

    def archive_path(self, data_dir: Path) -> Path:
        return self.archive_dir or data_dir / "audit-archive"


class AuditSettings(BaseModel):
    """Signed checkpoints of the audit chain's head (app/store/audit_checkpoint.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint_interval_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] = 60.0
    # Each checkpoint is also appended (one JSON a line) to <checkpoint_dir>/checkpoints.jsonl, for a
    # deployment to ship off the machine; default <data_dir>/audit-checkpoints.
    checkpoint_dir: Path | None = None

    def checkpoint_path(self, data_dir: Path) -> Path:
        return self.checkpoint_dir or data_dir / "audit-checkpoints"

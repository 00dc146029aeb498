"""``[log]``: where the engine and its media process write their logs, and how the files rotate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class LogSettings(BaseModel):
    """The engine's log. Unset ``file``: standard error only (under systemd: the journal, which rotates by
    itself). Set: the engine writes ``file`` and its media process ``<stem>-media<suffix>`` beside it, each
    rotated at ``max_bytes`` keeping ``backups`` old files; standard error then carries warnings and errors
    only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The engine's log file (its directory must exist and be writable); the Debian package sets
    # /var/log/goldentime/engine.log.
    file: Path | None = None
    # A file this large is renamed to <file>.1 (the older ones shift to .2, .3 …) and a new one begun.
    max_bytes: Annotated[int, Field(ge=64 * 1024, le=2**40)] = 10 * 1024 * 1024
    # Old files kept (<file>.1 … <file>.N); the oldest is deleted.
    backups: Annotated[int, Field(ge=1, le=100)] = 5
    # Least severe messages written.
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def media_file(self) -> Path | None:
        """The media process's own file (two processes never rotate one file)."""
        return self.file.with_name(f"{self.file.stem}-media{self.file.suffix}") if self.file else None

"""Rotating log files for the engine and its media process (``[log]`` settings)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from app.engine.log_settings import LogSettings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFileError(RuntimeError):
    pass


def log_to_file(path: Path, max_bytes: int, backups: int, level: str = "INFO", fmt: str = FORMAT) -> None:
    """Add a rotating file handler to the root logger; standard error keeps warnings and errors only.

    Raises :class:`LogFileError` naming the file when it cannot be opened (a start-up error, not a crash
    at the first message).
    """
    try:
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        raise LogFileError(f"log.file: cannot write {path}: {exc.strerror or exc}") from exc
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, logging.StreamHandler) and getattr(existing, "stream", None) in (
            sys.stderr,
            sys.stdout,
        ):
            existing.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level))


def engine_log(settings: LogSettings) -> None:
    """The engine's own file, from its ``[log]`` settings (nothing when ``file`` is unset)."""
    if settings.file is not None:
        log_to_file(settings.file, settings.max_bytes, settings.backups, settings.level)


def media_log_args(settings: LogSettings) -> list[str]:
    """The media process's command-line options for its own file (empty when ``file`` is unset)."""
    media = settings.media_file()
    if media is None:
        return []
    return [
        "--log-file", str(media),
        "--log-max-bytes", str(settings.max_bytes),
        "--log-backups", str(settings.backups),
        "--log-level", settings.level,
    ]  # fmt: skip

"""The audible cue for a new emergency: a short two-tone chime (a WAV generated once), played with
QSoundEffect when the machine has an audio output, else the system beep. Fails silently without sound."""

from __future__ import annotations

import logging
import math
import os
import struct
import sys
import time
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtWidgets import QApplication

__all__ = ["EmergencyCue", "write_chime"]

_log = logging.getLogger(__name__)
RATE = 22_050
MIN_INTERVAL_S = 2.0


def write_chime(path: Path) -> Path:
    """Two tones (880 Hz, 660 Hz), 0.25 s each, with soft edges; 16-bit mono."""
    frames = bytearray()
    for freq in (880.0, 660.0, 880.0, 660.0):
        n = int(RATE * 0.18)
        for i in range(n):
            env = min(1.0, i / 400, (n - i) / 400)
            frames += struct.pack("<h", int(12_000 * env * math.sin(2 * math.pi * freq * i / RATE)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return path


def audio_server_present() -> bool:
    """On Linux, whether a PulseAudio/PipeWire server is reachable (no sound server under Xvfb or on a
    headless box); elsewhere assume the system's audio service."""
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    candidates = [
        Path(runtime) / "pulse" / "native",
        Path(runtime) / "pipewire-0",
        Path("/var/run/pulse/native"),
    ]
    return any(p.exists() for p in candidates)


class EmergencyCue(QObject):
    """``play()`` at most once every two seconds (a burst of incidents gives one chime)."""

    def __init__(self, cache_dir: Path, parent: QObject | None = None, *, enabled: bool = True) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.played = 0
        self._last = 0.0
        self._effect = None
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

            # Probing devices without a sound server makes Qt print a warning: look first.
            if audio_server_present() and QMediaDevices.audioOutputs():
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(write_chime(cache_dir / "emergency-chime.wav"))))
                effect.setVolume(0.8)
                self._effect = effect
        except Exception as exc:  # no multimedia backend: the beep remains
            _log.info("no sound effect for the emergency cue: %s", exc)

    @property
    def uses_sound_effect(self) -> bool:
        return self._effect is not None

    def play(self) -> bool:
        """True if a cue was given (not muted and not within two seconds of the last one)."""
        now = time.monotonic()
        if not self.enabled or now - self._last < MIN_INTERVAL_S:
            return False
        self._last = now
        self.played += 1
        try:
            if self._effect is not None:
                self._effect.play()
            else:
                QApplication.beep()
        except Exception as exc:
            _log.info("emergency cue failed: %s", exc)
        return True

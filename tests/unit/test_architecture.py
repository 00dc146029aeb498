"""The layer table of DESIGN §3, ruff and strict mypy, checked by machine on every test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold() -> None:
    r = _run(str(BIN / "lint-imports"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_ruff_is_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", "app", "tests", "bench", "packaging", "main.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_on_the_core() -> None:
    r = _run(str(BIN / "mypy"))
    assert r.returncode == 0, r.stdout + r.stderr

"""docs/SETTINGS.md documents every settings key: type, default, what is allowed, meaning."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.engine.settings_doc import all_keys, documented_keys, render

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SETTINGS.md"


def test_every_settings_key_is_in_docs_settings_md() -> None:
    missing = sorted(all_keys() - documented_keys(DOC.read_text(encoding="utf-8")))
    assert not missing, (
        "settings keys missing from docs/SETTINGS.md (run: python main.py settings doc --write): "
        + ", ".join(f"[{t}] {k}" if t else k for t, k in missing)
    )


def test_every_documented_key_has_a_meaning_and_still_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(documented_keys(text)) >= 90
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert len(cells) == 6, row
        assert cells[4], f"no meaning: {row}"
    stale = sorted(documented_keys(text) - all_keys())
    assert not stale, f"docs/SETTINGS.md documents keys the settings no longer have: {stale}"


def test_the_document_shows_each_models_constraints_defaults_and_environment_name() -> None:
    text = render()
    line = next(row for row in text.splitlines() if row.startswith("| `concurrency` |"))
    assert "`96`" in line and "≥ 1; ≤ 256" in line and "GOLDENTIME_OUTBOX__CONCURRENCY" in line
    line = next(row for row in text.splitlines() if row.startswith("| `operator_recipient` |"))
    assert "one of `requester`, `any`" in line
    assert "## `[[sensor_rules]]`" in text and "## `[agency_access.per_agency.<id>]`" in text
    # A key dropped from the document is found missing.
    cut = "\n".join(row for row in text.splitlines() if not row.startswith("| `concurrency` |"))
    assert all_keys() - documented_keys(cut) == {("outbox", "concurrency")}


def test_settings_doc_command_prints_the_document() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "settings", "doc"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == render()

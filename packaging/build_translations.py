#!/usr/bin/env python3
"""Build the console's translations: ``resources/i18n/goldentime_{ko,en}.ts`` → ``.qm`` next to them.

    python packaging/build_translations.py            # lrelease only (what setup runs)
    python packaging/build_translations.py --update   # lupdate the .ts from the sources first, then lrelease

``--update`` scans app/console (with app/console/map) and app/video for ``self.tr()`` and
``QCoreApplication.translate()``; new strings arrive unfinished, which tests/console/test_translations.py
refuses until someone translates them (e.g. with ``pyside6-linguist``). The .qm files are git-ignored.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "resources" / "i18n"
LANGUAGES = ("ko", "en")
SOURCE_DIRS = (ROOT / "app" / "console", ROOT / "app" / "console" / "map", ROOT / "app" / "video")


def tool(name: str) -> str:
    """``pyside6-<name>`` from this interpreter's environment (the wheel ships it), else from PATH."""
    here = Path(sys.executable).parent / f"pyside6-{name}"
    if here.exists():
        return str(here)
    found = shutil.which(f"pyside6-{name}")
    if found:
        return found
    raise SystemExit(f"pyside6-{name} not found: install PySide6 in this environment")


def sources() -> list[str]:
    files: set[Path] = set()
    for d in SOURCE_DIRS:
        files.update(p for p in d.rglob("*.py") if "__pycache__" not in p.parts)
    return [str(p.relative_to(ROOT)) for p in sorted(files)]


def ts_path(lang: str) -> Path:
    return I18N / f"goldentime_{lang}.ts"


def update() -> None:
    for lang in LANGUAGES:
        cmd = [
            tool("lupdate"),
            "-no-obsolete",
            "-locations",
            "none",
            "-target-language",
            lang,
            *sources(),
            "-ts",
            str(ts_path(lang)),
        ]
        subprocess.run(cmd, check=True, cwd=ROOT)


def release(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for lang in LANGUAGES:
        qm = out_dir / f"goldentime_{lang}.qm"
        subprocess.run(
            [tool("lrelease"), "-silent", str(ts_path(lang)), "-qm", str(qm)], check=True, cwd=ROOT
        )
        made.append(qm)
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="run lupdate over the sources first")
    ap.add_argument(
        "--out", type=Path, default=I18N, help="where the .qm files go (default: next to the .ts)"
    )
    args = ap.parse_args(argv)
    if args.update:
        update()
    for qm in release(args.out):
        print(qm.relative_to(ROOT) if qm.is_relative_to(ROOT) else qm)
    return 0


if __name__ == "__main__":
    sys.exit(main())

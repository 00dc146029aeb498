"""The Windows installer definition kept in packaging/windows (not built here: it needs Windows)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from app.engine.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
WIN = ROOT / "packaging" / "windows"


def test_the_pyinstaller_spec_names_only_files_that_exist() -> None:
    spec = (WIN / "goldentime.spec").read_text(encoding="utf-8")
    paths = re.findall(r'ROOT((?: / "[^"]+")+)', spec)
    assert len(paths) >= 10
    for chain in paths:
        path = ROOT.joinpath(*re.findall(r'"([^"]+)"', chain))
        if path.name.endswith(".qm") or "vendor" in path.parts:
            continue  # made by packaging/setup.sh (build_translations.py, fetch_vendor.py)
        assert path.exists(), path
    for program in ("goldentime", "goldentime-console", "goldentime-wall"):
        assert f'("{program}",' in spec
    compile(spec, "goldentime.spec", "exec")  # valid Python


def test_the_inno_setup_script_is_complete_in_korean_and_english() -> None:
    raw = (WIN / "goldentime.iss").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Inno Setup reads the Korean strings right
    iss = raw.decode("utf-8-sig")
    messages = re.findall(r"^(ko|en)\.(\w+)=(.+)$", iss, re.M)
    ko = {name for lang, name, _ in messages if lang == "ko"}
    en = {name for lang, name, _ in messages if lang == "en"}
    assert ko == en and {"ConsoleName", "WallName", "VlcMissing"} <= ko
    for name in re.findall(r"\{cm:(\w+)\}|CustomMessage\('(\w+)'\)", iss):
        assert (name[0] or name[1]) in en
    for source in re.findall(r'^Source: "([^"]+)"', iss, re.M):
        if not source.startswith("..\\..\\dist"):
            assert (WIN / source).exists(), source
    assert (WIN / "goldentime.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an icon file
    assert "onlyifdoesntexist uninsneveruninstall" in iss  # settings never overwritten nor removed


def test_the_windows_settings_file_is_valid(tmp_path: Path) -> None:
    settings = load_settings(WIN / "settings.windows.toml")
    assert str(settings.data_dir).endswith("GoldenTime\\data")
    assert tomllib.loads((WIN / "settings.windows.toml").read_text())["log"]["file"].endswith("engine.log")

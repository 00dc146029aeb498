"""Every user-visible string is translated into Korean and English, finished, and the sources agree."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "resources" / "i18n"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%n")


def messages(lang: str) -> list[tuple[str, str, ET.Element]]:
    tree = ET.parse(I18N / f"goldentime_{lang}.ts")
    out = []
    for ctx in tree.getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for m in ctx.iter("message"):
            out.append((name, m.findtext("source") or "", m))
    return out


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_message_has_a_finished_non_empty_translation(lang: str) -> None:
    msgs = messages(lang)
    assert len(msgs) > 150
    problems = []
    for ctx, source, m in msgs:
        tr = m.find("translation")
        assert tr is not None
        if tr.get("type") in ("unfinished", "obsolete", "vanished"):
            problems.append(f"{ctx}: {source!r} is {tr.get('type')}")
            continue
        forms = (
            [f.text or "" for f in tr.iter("numerusform")] if m.get("numerus") == "yes" else [tr.text or ""]
        )
        if not forms or any(not f.strip() for f in forms):
            problems.append(f"{ctx}: {source!r} has an empty translation")
        for f in forms:
            if set(PLACEHOLDER.findall(f)) != set(PLACEHOLDER.findall(source)):
                problems.append(f"{ctx}: {source!r} → {f!r} changes the placeholders")
    assert not problems, "\n".join(problems)


def test_no_empty_contexts_and_both_languages_hold_the_same_messages() -> None:
    ko = {(c, s) for c, s, _ in messages("ko")}
    en = {(c, s) for c, s, _ in messages("en")}
    assert ko == en
    assert all(c for c, _ in ko), (
        "a message without context cannot be found at run time (use self.tr or translate('Ctx', …))"
    )


def test_ts_files_cover_every_string_in_the_sources(tmp_path: Path) -> None:
    """lupdate over the sources finds nothing that the .ts files lack."""
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import build_translations as bt
    finally:
        sys.path.pop(0)
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [bt.tool("lupdate"), "-locations", "none", *bt.sources(), "-ts", str(fresh)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    tree = ET.parse(fresh)
    found = {
        (ctx.findtext("name") or "", m.findtext("source") or "")
        for ctx in tree.getroot().iter("context")
        for m in ctx.iter("message")
    }
    have = {(c, s) for c, s, _ in messages("ko")}
    assert found - have == set(), (
        f"run: python packaging/build_translations.py --update, then translate: {sorted(found - have)}"
    )


def test_korean_is_korean() -> None:
    hangul = re.compile(r"[\uac00-\ud7a3]")
    texts = [m.findtext("translation") or "" for _, s, m in messages("ko") if s not in ("ID",)]
    assert sum(bool(hangul.search(t)) for t in texts) / len(texts) > 0.9


def test_sources_do_not_hide_strings_from_lupdate() -> None:
    """lupdate cannot see ``tr`` inside f-strings or through an alias (``tr = self.tr``)."""
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import build_translations as bt
    finally:
        sys.path.pop(0)
    hidden = re.compile(r"\{(self\.tr|QCoreApplication\.translate)\(|^\s*tr = self\.tr\b", re.MULTILINE)
    bad = [src for src in bt.sources() if hidden.search((ROOT / src).read_text(encoding="utf-8"))]
    assert not bad, f"strings lupdate cannot extract in: {bad}"

"""The camera panel's details: what the camera register says of the selected camera, in Korean and English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.console.i18n import Translations
from app.console.viewmodels.health import HealthVM
from app.console.widgets.camera_panel import CameraPanel
from app.domain.camera_import import parse_cameras
from app.domain.enums import Purpose
from app.engine.services.camera_register import import_cameras
from app.formats.api import CameraOut, CameraRegisterOut
from tests.engine.conftest import ADMIN

REGISTERS = Path(__file__).resolve().parent.parent / "data" / "registers"
TIMEOUT = 20_000

REGISTERED = CameraOut(
    id="KR-3f0c1a2b4d5e-1",
    name="대전광역시 대덕구 대전로 1033 #1",
    lat=36.1,
    lon=127.1,
    purpose=Purpose.CRIME,
    approximate=True,
    register_entry=CameraRegisterOut(
        provider="대전광역시 대덕구청",
        provider_code="3680000",
        register_no="202636800000800001",
        road_address="대전광역시 대덕구 대전로 1033",
        lot_address="대전광역시 대덕구 오정동 1",
        purpose_text="생활방범",
        installed="2019-05",
        pixels="200",
        view="360도 전방면",
        retention_days=30,
        phone="042-608-6789",
        data_date="2025-05-20",
    ),
)
PLAIN = CameraOut(id="JJ-0001", name="진주 1", lat=35.18, lon=128.08, purpose=Purpose.TRAFFIC)


def test_selected_camera_shows_its_register_fields(qtbot: QtBot) -> None:
    tr = Translations(QApplication.instance())  # type: ignore[arg-type]
    assert tr.switch("en")  # as the console does: English plurals come from its translation
    try:
        _check(qtbot, tr)
    finally:
        tr.switch("en")
        tr.uninstall()


def _check(qtbot: QtBot, tr: Translations) -> None:
    vm = HealthVM()
    vm.set_cameras([REGISTERED, PLAIN])
    panel = CameraPanel(vm)
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.details.text() == ""
    panel.select(REGISTERED.id)
    text = panel.details.text()
    for expected in (
        "Approximate position: not used as a nearest camera until corrected",
        "Operated by: 대전광역시 대덕구청 (3680000)",
        "Register number: 202636800000800001",
        "Address: 대전광역시 대덕구 대전로 1033",
        "Address: 대전광역시 대덕구 오정동 1",
        "Resolution: 2 megapixels",
        "Keeps video for 30 days",
        "Phone: 042-608-6789",
        "Register edition: 2025-05-20",
    ):
        assert expected in text
    panel.select(PLAIN.id)
    assert panel.details.text() == "진주 1 (JJ-0001)"
    panel.select(REGISTERED.id)

    assert tr.switch("ko")
    qtbot.waitUntil(lambda: "관리기관: 대전광역시 대덕구청" in "\n".join(panel.detail_lines(REGISTERED)))
    lines = panel.detail_lines(REGISTERED)
    assert "영상 보관 30일" in lines and "관리번호: 202636800000800001" in lines
    assert lines[1].startswith("대략적 위치")
    qtbot.waitUntil(lambda: "관리기관: 대전광역시 대덕구청" in panel.details.text())  # LanguageChange redraws


def test_a_register_import_reaches_a_running_console(engine: Any, console_factory: Any, qtbot: QtBot) -> None:
    """The engine pushes ``cameras.imported``; the console reloads its cameras, the map marks the stack."""
    text = (REGISTERS / "daejeon_2026_cp949.csv").read_bytes().decode("cp949")
    header, *rows = text.splitlines()
    stack = [r for r in rows if ",36.1,127.1," in r][:25]
    exact = [r for r in rows if ",36.1,127.1," not in r][:5]
    result = parse_cameras("\n".join([header, *stack, *exact]).encode("cp949"), "d.csv")
    approx = [c for c in result.cameras if c.approximate]
    assert len(approx) >= 25 and len(result.cameras) > len(approx)
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.connected and len(c.health.cameras()) == 36, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: console.map.is_ready, timeout=TIMEOUT)
    with engine.e.server.uow(ADMIN) as work:
        import_cameras(engine.e.server.ctx, work, result, "d.csv")
    qtbot.waitUntil(lambda: len(c.health.cameras()) == 36 + len(result.cameras), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: console.map.camera(approx[0].id) is not None, timeout=TIMEOUT)
    assert console.map.camera(approx[0].id)["approximate"] is True  # type: ignore[index]
    assert console.map.camera(result.cameras[-1].id)["approximate"] is False  # type: ignore[index]
    # The camera list shows it, and its details say who runs it.
    console.camera_panel.select(approx[0].id)
    assert "Operated by: 대전광역시 대덕구청" in console.camera_panel.details.text()

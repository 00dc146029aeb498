#!/usr/bin/env python3
"""Regenerate docs/screenshots/console-provision-{ko,en}.png: a supervisor's console with the provision
panel floated over it — shares waiting for approval (with the cue), then the ledger tab.

    python packaging/provision_screenshots.py [--lang ko|en]... [--out DIR]

Starts Xvfb itself (via packaging/screenshots.py's helper); needs ImageMagick's ``import``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))


async def _scene(app: Any, lang: str, out: Path, tmp: Path) -> None:
    import httpx
    from screenshots import SIZE, _grab, _until  # type: ignore[import-not-found]

    from app.console.bootstrap import Console, ConsoleOptions
    from app.domain.enums import AgencyKind, Role
    from app.engine.auth import Principal
    from app.engine.server import EngineServer
    from app.engine.services.directory import add_user, create_agency, upsert_cameras
    from app.engine.settings import Settings
    from app.formats.api import AgencyIn
    from tests.engine.conftest import grid_cameras, request_body

    ko = lang == "ko"
    server = EngineServer(Settings(data_dir=tmp / "engine", port=0))
    url = server.start_in_thread()
    system = Principal(kind="system", id="shots", name="shots")
    keys: dict[str, str] = {}
    with server.uow(system) as work:
        add_user(work.session, "supervisor", Role.SUPERVISOR, "goldentime", work.now)
        add_user(work.session, "kim", Role.OPERATOR, "goldentime", work.now)
        upsert_cameras(work, grid_cameras())
        for name, kind in (
            ("112 경찰 상황실" if ko else "112 Police room", AgencyKind.POLICE),
            ("119 소방 상황실" if ko else "119 Fire room", AgencyKind.FIRE),
            ("재난안전상황실" if ko else "Disaster room", AgencyKind.DISASTER),
        ):
            made = create_agency(
                work.session,
                AgencyIn(name=name, kind=kind, endpoint="http://127.0.0.1:9/x"),
                server.settings.outbox,
                work.now,
            )
            keys[kind.value] = made.id + "|" + made.api_key
    server.ctx.cameras.refresh(force=True)
    police_id, police_key = keys["police"].split("|")
    fire_id = keys["fire"].split("|")[0]
    disaster_id = keys["disaster"].split("|")[0]
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        inc = (
            await http.post(
                "/api/v1/requests",
                json=request_body("SHOT-1", title="흉기 난동 신고" if ko else "Knife attack reported"),
                headers={"authorization": f"Bearer {police_key}"},
            )
        ).json()["incident"]["id"]
        op = (await http.post("/api/v1/sessions", json={"username": "kim", "password": "goldentime"})).json()
        h = {"authorization": f"Bearer {op['token']}"}
        for agency, minutes, purpose, basis, cams in (
            (fire_id, 20, "화재 연기 확인" if ko else "smoke seen near the scene", "pipa-18-2-3", 2),
            (disaster_id, 60, "인파 밀집 관리" if ko else "crowd control", "dsa-74-3", 4),
            (police_id, 90, "용의자 추적" if ko else "suspect tracking", "pipa-18-2-7", 3),
        ):
            r = await http.post(
                f"/api/v1/incidents/{inc}/shares",
                headers=h,
                json={
                    "agency_id": agency,
                    "camera_ids": [f"CAM-{k:04d}" for k in range(cams)],
                    "minutes": minutes,
                    "purpose": purpose,
                    "legal_basis": basis,
                    "case_number": "2026-0412" if agency == police_id else "",
                },
            )
            r.raise_for_status()
    console = Console(
        ConsoleOptions(
            url,
            username="supervisor",
            password="goldentime",
            language=lang,
            settings_dir=tmp / "settings",
            sound=False,
        ),
        app,
    )
    try:
        assert await console.start()
        w = console.window
        w.setGeometry(0, 0, *SIZE)
        panel = console.provision_panel
        dock = w.docks["provision"]
        dock.setFloating(True)
        dock.setGeometry(200, 140, 1500, 700)
        dock.show()
        dock.raise_()
        await _until(lambda: panel.pending.rowCount() == 3)
        panel.pending.selectRow(0)
        panel.reason.setText("현장 화재 대응" if ko else "fire response at the scene")
        await asyncio.sleep(1.0)
        await _grab(out / f"console-provision-{lang}.png")
        panel.approve_button.click()
        await _until(lambda: panel.pending.rowCount() == 2)
        panel.tabs.setCurrentIndex(1)
        await _until(lambda: panel.ledger is not None and panel.ledger.rowCount() >= 4)
        await asyncio.sleep(0.5)
        await _grab(out / f"console-ledger-{lang}.png")
    finally:
        await console.stop()
        server.stop()


def child(lang: str, out: Path) -> int:
    from app.console.bootstrap import prepare_qt_environment

    prepare_qt_environment()
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="goldentime-prov-") as tmp, loop:
        loop.run_until_complete(_scene(app, lang, out, Path(tmp)))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", action="append", choices=["ko", "en"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--child", choices=["ko", "en"])
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    from screenshots import xvfb  # type: ignore[import-not-found]

    with xvfb() as display:
        for lang in args.lang or ["ko", "en"]:
            env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
            subprocess.run(
                [sys.executable, __file__, "--child", lang, "--out", str(args.out)], env=env, check=True
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The console's widgets against a real engine on 127.0.0.1: queue, detail actions, map, health, wall."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console_support import Engine
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

TIMEOUT = 20_000


def map_snapshot(qtbot: QtBot, console: Any) -> dict[str, Any]:
    got: list[dict[str, Any]] = []
    console.map.snapshot(got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT)
    return got[0]


def test_incident_reaches_queue_and_map_and_operator_acts_on_it(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    engine.request("OLD-1", priority=3, title="Earlier report")
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.connected and c.queue.open_count == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: console.queue_panel.model.rowCount() == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: console.map.is_ready, timeout=30_000)

    with qtbot.waitSignal(c.newEmergency, timeout=TIMEOUT):
        created = engine.request("NEW-1", priority=1, title="Assault in progress")
    inc_id = created["incident"]["id"]
    qtbot.waitUntil(lambda: console.queue_panel.model.rowCount() == 2, timeout=TIMEOUT)
    assert console.queue_panel.model.incident_id(0) == inc_id  # priority 1 first
    assert console.queue_panel.flash.isVisible()
    qtbot.waitUntil(lambda: inc_id in map_snapshot(qtbot, console).get("incidents", []), timeout=TIMEOUT)

    console.queue_panel.select(inc_id)
    qtbot.waitUntil(lambda: c.detail.incident_id == inc_id, timeout=TIMEOUT)
    d = console.detail_panel
    assert d.title.text() == "Assault in progress"
    assert d.cameras.count() > 0 and d.ack_btn.isEnabled()
    d.ack_btn.click()
    qtbot.waitUntil(
        lambda: c.detail.detail is not None and c.detail.detail.status == "acknowledged", timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: not d.ack_btn.isEnabled(), timeout=TIMEOUT)

    d.camerasToWall.emit(c.detail.camera_ids())
    assert [x for x in console.wall.vm.tiles if x] == c.detail.camera_ids()[:16]


def _select(qtbot: QtBot, console: Any, inc_id: str) -> None:
    console.queue_panel.select(inc_id)
    qtbot.waitUntil(lambda: console.controller.detail.incident_id == inc_id, timeout=TIMEOUT)


def test_share_extend_revoke_report_and_close(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    from app.console.widgets.dialogs import ShareDialog
    from app.domain.enums import Role

    inc_id = engine.request("S-1", priority=2)["incident"]["id"]
    # Sharing with another agency than the one that asked, and extending, are a supervisor's decisions.
    engine.e.add_user("boss", role=Role.SUPERVISOR, password="supervisor-pass")
    console = console_factory(engine.url, username="boss", password="supervisor-pass")
    c = console.controller
    qtbot.waitUntil(
        lambda: c.queue.get(inc_id) is not None and bool(c.agencies) and bool(c.detail.legal_bases),
        timeout=TIMEOUT,
    )
    _select(qtbot, console, inc_id)
    d = console.detail_panel
    before = len(c.detail.detail.shares)  # the requesting agency's automatic share

    d.share_btn.click()
    dlg = d.findChild(ShareDialog)
    assert dlg is not None and dlg.isVisible()
    dlg.agency.setCurrentIndex(dlg.agency.findData(engine.disaster.id))
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()  # no purpose yet: refused in the dialog
    assert dlg.isVisible() and dlg.error.isVisible()
    dlg.purpose.setText("flood watch")
    dlg.minutes.setValue(3)
    # The legal basis is chosen from the engine's list, preset to the incident's service's (18(2)3 for 112).
    assert dlg.basis.count() >= 3 and dlg.basis.currentData() == "pipa-18-2-3"
    dlg.basis.setCurrentIndex(dlg.basis.findData("dsa-74-3"))
    dlg.officer.setText("방재담당 이○○")
    dlg.case.setText("재난-2026-7")
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: len(c.detail.detail.shares) == before + 1, timeout=TIMEOUT)
    made = next(s for s in c.detail.detail.shares if s.agency_id == engine.disaster.id)
    assert (made.legal_basis, made.requesting_officer, made.case_number) == (
        "dsa-74-3",
        "방재담당 이○○",
        "재난-2026-7",
    )
    qtbot.waitUntil(lambda: d.shares.topLevelItemCount() == before + 1, timeout=TIMEOUT)
    first = d.shares.topLevelItem(0)  # expiring soon sorts first
    assert first.text(0) == "Disaster room" and first.text(1) == "Expiring soon"
    viewer_url = next(s.viewer_url for s in c.detail.detail.shares if s.agency_id == engine.disaster.id)
    assert viewer_url and "/view/" in viewer_url and viewer_url in first.toolTip(0)  # the share page
    first.setSelected(True)
    assert d.extend_btn.isEnabled()
    old_expiry = next(s.expires_at for s in c.detail.detail.shares if s.agency_id == engine.disaster.id)
    d.extend_btn.click()  # an extension is a decision with a reason: the panel asks for it
    ask = d.findChild(QInputDialog, "extendReason")
    assert ask is not None and ask.isVisible()
    ask.setTextValue("the fire is spreading")
    ask.accept()
    qtbot.waitUntil(
        lambda: (
            next(s.expires_at for s in c.detail.detail.shares if s.agency_id == engine.disaster.id)
            > old_expiry
        ),
        timeout=TIMEOUT,
    )
    share_id = next(s.id for s in c.detail.detail.shares if s.agency_id == engine.disaster.id)
    with qtbot.waitSignal(c.actionDone, timeout=TIMEOUT):
        d.revokeShareRequested.emit(share_id)
    assert next(s.status for s in c.detail.detail.shares if s.id == share_id) == "revoked"

    with qtbot.waitSignal(c.reportCreated, timeout=TIMEOUT):
        d.report_btn.click()
    qtbot.waitUntil(
        lambda: any(r.agency_id == engine.fire.id for r in c.detail.detail.reports), timeout=TIMEOUT
    )
    assert any(
        "Reported to" in d.timeline.topLevelItem(i).text(2) for i in range(d.timeline.topLevelItemCount())
    )
    assert d.tabs.tabText(3).startswith("Deliveries")

    d.closeRequested.emit("done")
    qtbot.waitUntil(lambda: c.queue.get(inc_id) is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: console.queue_panel.model.rowCount() == 0, timeout=TIMEOUT)


def test_failed_action_shows_a_clear_message(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    inc_id = engine.request("F-1")["incident"]["id"]
    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.queue.get(inc_id) is not None, timeout=TIMEOUT)
    _select(qtbot, console, inc_id)
    with qtbot.waitSignal(c.actionFailed, timeout=TIMEOUT) as sig:
        c.share("no-such-agency", ["CAM-0001"], 10, "test")
    assert "refused" in sig.args[0]
    assert console.last_error == sig.args[0]
    with qtbot.waitSignal(c.actionFailed, timeout=TIMEOUT) as sig:
        c.share(engine.fire.id, [], 10, "test")  # invalid before it leaves the console
    assert "at least one camera" in sig.args[0]


def test_language_switch_retranslates_at_runtime(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    console = console_factory(engine.url)
    w = console.window
    assert w.docks["queue"].windowTitle() == "Incident queue"
    console.set_language("ko")
    qtbot.waitUntil(
        lambda: w.docks["queue"].windowTitle() == "사건 대기열", timeout=TIMEOUT
    )  # LanguageChange is posted
    assert console.queue_panel.model.headerData(1, Qt.Orientation.Horizontal) == "골든타임"
    assert console.detail_panel.empty.text() == "대기열이나 지도에서 사건을 선택하세요."
    assert console.map.default_labels()["cameras"] == "카메라"
    assert w.language_actions["ko"].isChecked()
    console.set_language("en")
    qtbot.waitUntil(lambda: w.docks["wall"].windowTitle() == "Video wall", timeout=TIMEOUT)
    assert console.settings.value("language") == "en"


def test_panel_arrangement_is_remembered(
    engine: Engine, qtbot: QtBot, aw: Callable[..., Any], tmp_path: Any
) -> None:
    from console_support import make_console

    first = make_console(engine.url, tmp_path / "s")
    assert aw(first.start(), timeout=30_000)
    w = first.window
    w.removeDockWidget(w.docks["health"])
    w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, w.docks["health"])
    w.docks["health"].show()
    w.docks["cameras"].hide()
    first.wall.set_layout(9)
    w.close()
    aw(first.wait_closed())
    aw(first.stop(), timeout=30_000)

    second = make_console(engine.url, tmp_path / "s")
    try:
        assert aw(second.start(), timeout=30_000)
        w2 = second.window
        assert w2.dockWidgetArea(w2.docks["health"]) == Qt.DockWidgetArea.BottomDockWidgetArea
        assert not w2.docks["cameras"].isVisible()
        assert second.wall.vm.layout == 9
    finally:
        aw(second.stop(), timeout=30_000)


def test_wall_drop_maximise_and_tiles_go_live(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, ts_server: Any
) -> None:
    from PySide6.QtCore import QMimeData, QPoint, QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from app.video.tile_model import TileStatus

    console = console_factory(
        engine.url, media_url_template=f"http://127.0.0.1:{ts_server.port}/{{camera_id}}-{{stream}}.ts"
    )
    c = console.controller
    qtbot.waitUntil(lambda: c.health.camera_count == 36, timeout=TIMEOUT)
    wall = console.wall
    wall.set_layout(4)
    mime = QMimeData()
    mime.setData("application/x-goldentime-camera-id", b"CAM-0007")
    slot = wall.slots[2]
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(slot, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(QPoint(10, 10)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(slot, drop)
    assert drop.isAccepted() and wall.vm.tiles[2] == "CAM-0007"
    tile = wall.tile(2)
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT)
    assert tile.backend is not None and tile.backend.url.endswith("CAM-0007-sub.ts")
    assert tile._name.text() == "Camera 7"

    # Camera list drag payload is the same MIME.
    console.camera_panel.refresh()
    item = console.camera_panel.list.item(0)
    payload = console.camera_panel.list.mimeData([item])
    assert payload.hasFormat("application/x-goldentime-camera-id")

    # A maximised tile on a big enough wall switches to the main stream by itself.
    dock = console.window.docks["wall"]
    dock.setFloating(True)
    dock.resize(1600, 1000)
    tile.doubleClicked.emit()
    assert wall.vm.maximised == 2 and not wall.slots[0].isVisible()
    qtbot.waitUntil(
        lambda: tile.model.variant is not None and str(tile.model.variant) == "main", timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT)
    tile.doubleClicked.emit()
    assert wall.vm.maximised is None and wall.slots[0].isVisible()


def test_engine_outage_banner_video_keeps_playing_and_catch_up_misses_nothing(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, ts_server: Any, tmp_path: Any
) -> None:
    from app.client import Backoff
    from app.engine.server import EngineServer
    from app.engine.settings import Settings
    from app.video.tile_model import TileStatus
    from tests.engine.conftest import EngineUnderTest

    first = engine.request("O-1", priority=3)["incident"]["id"]
    console = console_factory(
        engine.url, media_url_template=f"http://127.0.0.1:{ts_server.port}/{{camera_id}}-{{stream}}.ts"
    )
    c = console.controller
    c.feed._backoff = Backoff(base_s=1.5, cap_s=1.5, jitter=0)
    qtbot.waitUntil(lambda: c.connected and c.queue.get(first) is not None, timeout=TIMEOUT)
    console.wall.put_cameras(["CAM-0001"])
    tile = console.wall.tile(0)
    qtbot.waitUntil(lambda: tile.status is TileStatus.LIVE, timeout=TIMEOUT)
    _select(qtbot, console, first)
    reloads, connections = c.reloads, c.feed.connections

    port = engine.e.server.bound_port
    engine.e.close()
    banner = console.window.banner
    qtbot.waitUntil(banner.isVisible, timeout=TIMEOUT)
    assert "Engine unreachable" in banner.label.text()
    with qtbot.waitSignal(c.actionFailed, timeout=TIMEOUT) as failed:
        console.detail_panel.ack_btn.click()
    assert "unreachable" in failed.args[0] and "not carried out" in failed.args[0]
    assert tile.status is TileStatus.LIVE  # video does not depend on the engine's API

    # The engine comes back on the same port and data; things happen before the console reconnects.
    server = EngineServer(Settings(data_dir=tmp_path / "engine", port=port))
    server.start_in_thread()
    revived = EngineUnderTest(server)
    try:
        from console_support import Engine as _E

        again = _E.__new__(_E)
        again.e, again.url, again.police, again.fire = revived, revived.url, engine.police, engine.fire
        ids = [again.request(f"O-{i}", priority=1)["incident"]["id"] for i in range(2, 5)]
        qtbot.waitUntil(lambda: c.connected, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: all(c.queue.get(i) is not None for i in ids), timeout=TIMEOUT)
        assert not banner.isVisible()
        assert c.feed.connections > connections
        assert c.reloads == reloads  # caught up with since=seq, no full reload needed
        qtbot.waitUntil(lambda: console.queue_panel.model.rowCount() == 4, timeout=TIMEOUT)
        assert tile.status is TileStatus.LIVE
    finally:
        revived.close()


def test_ended_session_asks_the_operator_to_log_in_again(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, aw: Callable[..., Any]
) -> None:
    import httpx
    from console_support import OPERATOR

    console = console_factory(engine.url)
    c = console.controller
    qtbot.waitUntil(lambda: c.connected, timeout=TIMEOUT)
    old = c.client.token
    httpx.delete(
        f"{engine.url}/api/v1/sessions", headers={"authorization": f"Bearer {old}"}
    ).raise_for_status()

    async def drop() -> None:
        assert c.feed._ws is not None
        await c.feed._ws.close()

    aw(drop())
    qtbot.waitUntil(
        lambda: console.login_dialog is not None and console.login_dialog.isVisible(), timeout=TIMEOUT
    )
    dlg = console.login_dialog
    assert dlg.username.text() == OPERATOR[0] and "log in again" in dlg.error.text().lower()
    assert console.window.banner.isVisible()
    dlg.password.setText(OPERATOR[1])
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: c.connected and console.login_dialog is None, timeout=TIMEOUT)
    assert c.client.token != old and not console.window.banner.isVisible()


def test_another_panel_can_join_the_window(engine: Engine, console_factory: Callable[..., Any]) -> None:
    from PySide6.QtWidgets import QDockWidget, QLabel

    console = console_factory(engine.url)
    w = console.window
    dock = QDockWidget("Extra", w)
    dock.setWidget(QLabel("extra", dock))
    w.add_dock("extra", dock)
    assert w.docks["extra"] is dock and dock.objectName() == "dock_extra"
    assert dock.toggleViewAction() in w.view_menu.actions()
    console.set_language("ko")  # retranslation leaves a panel's own title alone
    w.retranslate()
    assert dock.windowTitle() == "Extra"


def test_a_supervisor_reads_and_exports_the_audit_trail_an_operator_has_no_such_panel(
    engine: Engine, console_factory: Callable[..., Any], qtbot: QtBot, tmp_path: Any
) -> None:
    from app.domain.enums import Role

    engine.e.add_user("boss", role=Role.SUPERVISOR, password="supervisor-pass")
    engine.request("A-1")
    operator = console_factory(engine.url)
    assert operator.audit_panel is None and "audit" not in operator.window.docks

    console = console_factory(engine.url, username="boss", password="supervisor-pass")
    panel = console.audit_panel
    assert panel is not None and console.window.docks["audit"].widget() is panel
    panel.action.setEditText("incident.create")
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=TIMEOUT)
    assert panel.table.item(0, 1).text() == "agency:112 Police room"
    assert panel.table.item(0, 3).text().startswith("incident INC")

    # Everything of the last 24 hours, newest first: the supervisor's own login is there.
    panel.action.setEditText("")
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.rowCount() > 3, timeout=TIMEOUT)
    actions = {panel.table.item(r, 2).text() for r in range(panel.table.rowCount())}
    assert {"incident.create", "share.create", "session.create"} <= actions

    out = tmp_path / "audit.csv"
    panel.exportRequested.emit(panel.query(), str(out))
    qtbot.waitUntil(lambda: out.exists() and "Exported" in panel.status.text(), timeout=TIMEOUT)
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("id,at,actor,action")

    console.set_language("ko")  # LanguageChange is posted
    qtbot.waitUntil(lambda: console.window.docks["audit"].windowTitle() == "감사 기록", timeout=TIMEOUT)
    assert panel.search_button.text() == "검색" and panel.period.currentText() == "최근 24시간"

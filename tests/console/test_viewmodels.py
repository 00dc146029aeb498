"""The console's view models without a window: queue order and cue, countdowns, detail, health, wall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.console.viewmodels.detail import DeliveryHealth, IncidentDetailVM, ShareState
from app.console.viewmodels.health import HealthVM
from app.console.viewmodels.queue import GoldenTimeState, IncidentQueueVM, format_countdown, golden_time
from app.console.viewmodels.wall import WallLayoutVM, grid_shape, layout_for
from app.domain.clock import ManualClock
from app.domain.enums import Service
from app.formats.api import (
    AgencyHealthOut,
    AgencyOut,
    CameraOut,
    DeliveryOut,
    IncidentDetailOut,
    IncidentOut,
    ShareOut,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def inc(
    id_: str,
    priority: int = 3,
    age_s: float = 0,
    status: str = "new",
    service: str = "112-dispatch",
    **kw: Any,
) -> IncidentOut:
    created = T0 - timedelta(seconds=age_s)
    return IncidentOut(
        id=id_,
        service=Service(service),
        status=status,
        title=f"Incident {id_}",
        priority=priority,
        exercise=False,
        location={"lat": 35.18, "lon": 128.08},
        created_at=created,
        updated_at=kw.pop("updated_at", created),
        golden_time_s=kw.pop("golden_time_s", 300),
        **kw,
    )


def test_countdown_format() -> None:
    assert format_countdown(245) == "4:05"
    assert format_countdown(0.2) == "0:01"
    assert format_countdown(0) == "0:00"
    assert format_countdown(-65) == "-1:05"
    assert format_countdown(3723) == "1:02:03"


def test_golden_time_states() -> None:
    i = inc("A", golden_time_s=300)
    assert golden_time(i, T0 + timedelta(seconds=100)).state is GoldenTimeState.RUNNING
    g = golden_time(i, T0 + timedelta(seconds=400))
    assert g.state is GoldenTimeState.OVERDUE and g.overdue and g.text == "-1:40"
    met = i.model_copy(update={"acknowledged_at": T0 + timedelta(seconds=60), "status": "acknowledged"})
    assert golden_time(met, T0 + timedelta(seconds=1000)).state is GoldenTimeState.MET
    late = i.model_copy(update={"acknowledged_at": T0 + timedelta(seconds=301), "status": "acknowledged"})
    assert golden_time(late, T0 + timedelta(seconds=1000)).state is GoldenTimeState.LATE


def test_queue_sorts_by_priority_then_age_and_filters_by_service() -> None:
    clock = ManualClock(T0)
    vm = IncidentQueueVM(clock)
    vm.reset(
        [
            inc("young-p2", 2, 10),
            inc("old-p2", 2, 100),
            inc("p1", 1, 0, service="119-dispatch"),
            inc("closed", 1, status="closed"),
        ]
    )
    assert [i.id for i in vm.rows] == ["p1", "old-p2", "young-p2"]
    vm.set_service_filter({Service.DISPATCH_119})
    assert [i.id for i in vm.rows] == ["p1"]
    assert vm.open_count == 3
    vm.set_service_filter(None)
    assert vm.index_of("young-p2") == 2


def test_queue_cues_only_new_emergencies_arriving_live() -> None:
    vm = IncidentQueueVM(ManualClock(T0))
    vm.reset([inc("known", 1)])
    assert not vm.upsert(inc("known", 1, updated_at=T0 + timedelta(seconds=1))).new_emergency
    change = vm.upsert(inc("fresh", 1))
    assert change.inserted and change.new_emergency
    assert not vm.upsert(inc("low", 4)).new_emergency
    assert not vm.upsert(inc("acked", 1, status="acknowledged")).new_emergency
    # An update to the fresh one does not cue again; a stale update is ignored.
    assert not vm.upsert(inc("fresh", 1, updated_at=T0 + timedelta(seconds=5), assignee="op")).new_emergency
    assert not vm.upsert(inc("fresh", 1, updated_at=T0)).inserted
    assert vm.get("fresh") is not None and vm.get("fresh").assignee == "op"  # type: ignore[union-attr]
    removed = vm.upsert(inc("fresh", 1, status="closed", updated_at=T0 + timedelta(seconds=9)))
    assert removed.removed and vm.get("fresh") is None


def test_queue_overdue_count_follows_the_clock() -> None:
    clock = ManualClock(T0)
    vm = IncidentQueueVM(clock)
    vm.reset([inc("a", golden_time_s=60), inc("b", golden_time_s=600)])
    assert vm.overdue_count() == 0
    clock.advance(120)
    assert vm.overdue_count() == 1
    assert vm.golden_time(vm.rows[0]).state in (GoldenTimeState.OVERDUE, GoldenTimeState.RUNNING)


def agency(
    id_: str, name: str, kind: str = "police", state: str = "ok", dead: int = 0, enabled: bool = True
) -> AgencyOut:
    return AgencyOut(
        id=id_,
        name=name,
        kind=kind,
        format="json",
        endpoint="http://x",
        enabled=enabled,
        health=AgencyHealthOut(state=state, dead_letters=dead),
    )


def delivery(id_: str, agency_id: str, state: str, seq: int, attempts: int = 1) -> DeliveryOut:
    return DeliveryOut(
        id=id_,
        agency_id=agency_id,
        incident_id="I",
        event_type="share.created",
        sequence=seq,
        state=state,
        attempts=attempts,
        created_at=T0,
        last_error="HTTP 500" if state != "delivered" else None,
    )


def share(id_: str, agency_id: str, minutes: float, status: str = "active") -> ShareOut:
    return ShareOut(
        id=id_,
        incident_id="I",
        agency_id=agency_id,
        camera_ids=["C1"],
        purpose="p",
        status=status,
        created_at=T0,
        expires_at=T0 + timedelta(minutes=minutes),
    )


def test_detail_shares_deliveries_and_live_delivery_updates() -> None:
    clock = ManualClock(T0)
    vm = IncidentDetailVM(clock)
    vm.set_agencies([agency("p", "Police"), agency("f", "Fire", "fire"), agency("d", "Disaster", "disaster")])
    base = inc("I").model_dump()
    detail = IncidentDetailOut(
        **base,
        cameras=[CameraOut(id="C1", name="One", lat=35.18, lon=128.08, purpose="crime")],
        shares=[share("s1", "p", 30), share("s2", "f", 3), share("s3", "d", 30, status="revoked")],
        deliveries=[
            delivery("d1", "p", "delivered", 1),
            delivery("d2", "f", "retrying", 1, 3),
            delivery("d3", "d", "dead", 1, 8),
            delivery("d4", "p", "delivered", 2),
        ],
        timeline=[
            {"id": 1, "at": T0, "kind": "created", "actor": "agency:police"},
            {"id": 2, "at": T0 + timedelta(seconds=5), "kind": "share.created", "actor": "system"},
        ],
    )
    vm.set_detail(detail)
    assert vm.can_acknowledge and vm.is_open and vm.camera_ids() == ["C1"]
    assert [e.id for e in vm.timeline()] == [2, 1]
    shares = vm.shares()
    assert [(s.share.id, s.state) for s in shares] == [
        ("s2", ShareState.EXPIRING),
        ("s1", ShareState.ACTIVE),
        ("s3", ShareState.REVOKED),
    ]
    assert shares[0].countdown == "3:00" and shares[0].can_extend and not shares[2].can_revoke
    clock.advance(200)
    assert [(s.share.id, s.state) for s in vm.shares()][1] == ("s2", ShareState.EXPIRED)
    rows = vm.deliveries()
    assert [(r.agency_name, r.state) for r in rows] == [
        ("Disaster", DeliveryHealth.DEAD),
        ("Fire", DeliveryHealth.RETRYING),
        ("Police", DeliveryHealth.DELIVERED),
    ]
    assert rows[0].dead_delivery_ids == ("d3",) and rows[2].delivered == 2
    assert vm.apply_delivery_update(
        {"delivery_id": "d2", "incident_id": "I", "state": "delivered", "attempts": 4}
    )
    assert [r.state for r in vm.deliveries()][1] is DeliveryHealth.DELIVERED
    assert not vm.apply_delivery_update({"delivery_id": "new", "incident_id": "I", "state": "pending"})
    vm.apply_incident(inc("I", status="acknowledged", acknowledged_at=T0))
    assert not vm.can_acknowledge and vm.detail is not None and vm.detail.cameras


def test_health_lists_offline_cameras_and_failing_agencies() -> None:
    vm = HealthVM()
    vm.set_cameras(
        [
            CameraOut(id="A", name="a", lat=0, lon=0, purpose="crime"),
            CameraOut(id="B", name="b", lat=0, lon=0, purpose="crime", online=False),
        ]
    )
    assert [c.id for c in vm.offline_cameras()] == ["B"]
    assert vm.set_tile_state("A", True) and not vm.set_tile_state("A", True)
    assert [c.id for c in vm.offline_cameras()] == ["A", "B"]
    vm.set_tile_state("A", False)
    assert vm.set_camera_online("B", True) and not vm.set_camera_online("B", True)
    assert vm.offline_cameras() == [] and not vm.set_camera_online("nope", False)
    vm.set_camera_online("B", False)
    vm.set_agencies(
        [
            agency("1", "Ok"),
            agency("2", "Failing", state="failing"),
            agency("3", "Dead", dead=2),
            agency("4", "Off", enabled=False),
        ]
    )
    assert [(s.agency.name, s.state) for s in vm.failing_agencies()] == [
        ("Dead", "dead-letter"),
        ("Failing", "failing"),
        ("Off", "disabled"),
    ]
    assert vm.agencies()[-1].agency.name == "Ok"


def test_wall_layouts_assignments_and_incident_cameras() -> None:
    assert grid_shape(9) == (3, 3) and layout_for(5) == 9 and layout_for(40) == 16
    vm = WallLayoutVM(4)
    vm.assign(0, "A")
    vm.assign(3, "B")
    vm.assign(3, "A")  # moves A, swapping with B
    assert vm.tiles == ["B", None, None, "A"]
    vm.toggle_maximise(3)
    assert vm.maximised == 3
    vm.set_layout(1)
    assert vm.tiles == ["B"] and vm.maximised is None
    vm.set_layout(4)
    assert vm.tiles == ["B", None, None, "A"]
    vm.put_cameras([f"C{i}" for i in range(6)])
    assert vm.layout == 9 and vm.tiles[:6] == [f"C{i}" for i in range(6)] and vm.tiles[6:] == [None] * 3
    assert vm.add_camera("X") == 6 and vm.add_camera("X") == 6
    with pytest.raises(ValueError):
        vm.set_layout(5)
    saved = vm.to_dict()
    again = WallLayoutVM.from_dict(saved, known={"C0", "C1", "X"})
    assert (
        again.layout == 9
        and again.tiles[:2] == ["C0", "C1"]
        and again.tiles[2] is None
        and again.tiles[6] == "X"
    )
    assert WallLayoutVM.from_dict("garbage").layout == 4


def test_camera_names_sort_naturally() -> None:
    from app.console.viewmodels.health import natural_key

    names = ["가호동 10 방범", "가호동 2 시설", "가호동 1 방범", "Camera 9", "Camera 10"]
    assert sorted(names, key=natural_key) == [
        "Camera 9",
        "Camera 10",
        "가호동 1 방범",
        "가호동 2 시설",
        "가호동 10 방범",
    ]


# ------------------------------------------------------------------ audit trail


def test_audit_query_params_and_file_name() -> None:
    from datetime import UTC, datetime

    from app.console.viewmodels.audit import ROW_LIMIT, AuditQuery

    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    q = AuditQuery(actor=" user:kim ", action="video.view", target_id="", hours=24)
    assert q.params(now) == {
        "since": "2026-11-24T09:30:00+00:00",
        "limit": ROW_LIMIT,
        "actor": "user:kim",
        "action": "video.view",
    }
    assert AuditQuery(hours=1).params(now) == {"since": "2026-11-25T08:30:00+00:00", "limit": ROW_LIMIT}
    name = AuditQuery(action="video.view", target_id="CAM/1").file_name(now)
    assert name == "goldentime-audit-20261125-0930-video.view-CAM_1.csv"


def test_audit_rows_become_cells_and_a_full_page_says_so() -> None:
    from datetime import UTC, datetime

    from app.console.viewmodels.audit import ROW_LIMIT, AuditQuery, AuditVM, detail_text
    from app.formats.api import AuditOut

    row = AuditOut(
        id=1,
        at=datetime(2026, 11, 25, 0, 0, 5, tzinfo=UTC),
        actor="user:kim",
        action="video.view",
        target_type="camera",
        target_id="CAM-1",
        client="10.0.0.7",
        detail={"bytes": 1200, "share_id": None, "cameras": ["a", "b", "c", "d", "e", "f"], "ms": 1.5},
    )
    vm = AuditVM()
    vm.set_rows(AuditQuery(), [row])
    at, actor, action, target, client, detail = vm.cells(row)
    assert at.endswith(datetime(2026, 11, 25, 0, 0, 5, tzinfo=UTC).astimezone().strftime("%H:%M:%S"))
    assert (actor, action, target, client) == ("user:kim", "video.view", "camera CAM-1", "10.0.0.7")
    assert detail == "bytes=1200, cameras=[a, b, c, d, e, …], ms=1.5"  # empty values left out
    assert not vm.truncated
    vm.set_rows(AuditQuery(), [row] * ROW_LIMIT)
    assert vm.truncated
    assert len(detail_text({"note": "x" * 500})) == 160


def test_history_query_searches_a_place_circle_once_centred() -> None:
    from app.console.viewmodels.history import HistoryQuery

    now = datetime(2026, 12, 6, tzinfo=UTC)
    q = HistoryQuery(near_from="incident", radius_m=300)
    assert q.needs_centre and "near" not in q.params(now)  # no centre yet: no circle sent
    c = q.centred(35.18, 128.08)
    assert not c.needs_centre and c.params(now)["near"] == "35.180000,128.080000,300"
    # The radius stays within what the route takes (0 < r ≤ 50 km).
    assert HistoryQuery(near_from="map", radius_m=10**6).centred(1, 2).params(now)["near"].endswith(",50000")
    assert HistoryQuery(near_from="map", radius_m=0).centred(1, 2).params(now)["near"].endswith(",50")
    assert "near" not in HistoryQuery(centre=(1.0, 2.0)).params(now)  # "anywhere": no circle

"""The console's settings, the selected incident's map overlays, the jump key's target and the golden-time
countdowns per service: pure view-model code, no window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.console.map.basemaps import BasemapSource
from app.console.viewmodels.console_settings import ConsoleSettings, load_settings, save_settings
from app.console.viewmodels.detail import IncidentDetailVM
from app.console.viewmodels.map_overlays import cameras_in_area, incident_overlays
from app.console.viewmodels.queue import GoldenTimeState, IncidentQueueVM
from app.domain.enums import Service
from app.formats.api import IncidentDetailOut, IncidentOut

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class Store:
    """A dict behind QSettings' three methods."""

    def __init__(self, **values: Any) -> None:
        self.d: dict[str, Any] = dict(values)

    def value(self, key: str, defaultValue: Any = None) -> Any:
        return self.d.get(key, defaultValue)

    def setValue(self, key: str, value: Any) -> None:
        self.d[key] = value

    def remove(self, key: str) -> None:
        self.d.pop(key, None)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.t = now

    def now(self) -> datetime:
        return self.t


def incident(
    id: str = "I1", service: str = "119-dispatch", priority: int = 1, age_s: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "id": id,
        "service": service,
        "status": "new",
        "title": f"t {id}",
        "priority": priority,
        "exercise": False,
        "location": {"lat": 35.18, "lon": 128.08},
        "created_at": (T0 - timedelta(seconds=age_s)).isoformat(),
        "updated_at": T0.isoformat(),
        "golden_time_s": 300,
        **extra,
    }


def test_settings_round_trip_and_legacy_keys() -> None:
    legacy = Store(**{"map/xyz_url": "https://t.example/{z}/{x}/{y}.png", "map/xyz_attribution": "© t"})
    s = load_settings(legacy)
    assert [b.kind for b in s.basemaps] == ["xyz"] and s.basemaps[0].attribution == "© t"
    assert s.video_auto == "p1p2" and s.jump_key == "Ctrl+J" and s.golden_s == {}

    s.basemaps.append(
        BasemapSource("Sat", "wmts", url="https://w/{key}/{TileMatrix}/{TileRow}/{TileCol}", key="K")
    )
    s.basemap = "Sat"
    s.video_auto = "always"
    s.golden_s = {Service.DISPATCH_119: 240, Service.VULNERABLE_SOS: 600}
    s.jump_key = "F9"
    assert s.validate() == []
    store = Store()
    save_settings(legacy, s)
    assert "map/xyz_url" not in legacy.d, "the list replaces the old keys"
    save_settings(store, s)
    again = load_settings(store)
    assert again.basemaps == s.basemaps and again.basemap == "Sat" and again.video_auto == "always"
    assert again.golden_s == s.golden_s and again.jump_key == "F9"


def test_settings_refuse_bad_values() -> None:
    s = ConsoleSettings(
        basemaps=[
            BasemapSource("A", "xyz", url="https://a/tiles.png"),
            BasemapSource("A", "mbtiles", path="/x"),
        ],
        golden_s={Service.DISPATCH_112: 5},
    )
    problems = s.validate()
    assert len(problems) == 3
    assert any("{z}" in p for p in problems) and any("twice" in p for p in problems)
    assert any("golden" in p for p in problems)
    # A hand-edited ini with garbage keeps the console running with what is usable.
    loaded = load_settings(Store(**{"map/basemaps": "[{]", "golden/119-dispatch": "soon", "video/auto": "x"}))
    assert loaded.basemaps == [] and loaded.problems and loaded.golden_s == {} and loaded.video_auto == "p1p2"


def test_golden_time_countdown_per_service_overrides_the_engine() -> None:
    clock = Clock(T0)
    vm = IncidentQueueVM(clock)  # type: ignore[arg-type]
    inc = IncidentOut.model_validate(incident(age_s=200))
    vm.reset([inc])
    assert vm.golden_time(inc).text == "1:40"  # the engine's 300 s
    vm.golden_overrides = {Service.DISPATCH_119: 180}
    g = vm.golden_time(inc)
    assert g.state is GoldenTimeState.OVERDUE and g.text == "-0:20"
    assert vm.overdue_count() == 1
    vm.golden_overrides = {Service.DISPATCH_112: 10}  # another service's setting leaves this one alone
    assert vm.golden_time(inc).text == "1:40"
    detail = IncidentDetailVM(clock)  # type: ignore[arg-type]
    detail.set_detail(IncidentDetailOut.model_validate(incident(age_s=200)))
    detail.golden_overrides = {Service.DISPATCH_119: 600}
    g2 = detail.golden_time()
    assert g2 is not None and g2.text == "6:40"


def test_jump_target_is_the_newest_urgent_new_incident() -> None:
    vm = IncidentQueueVM(Clock(T0))  # type: ignore[arg-type]
    assert vm.newest_emergency() is None
    vm.reset(
        [
            IncidentOut.model_validate(incident("OLD-P1", age_s=600)),
            IncidentOut.model_validate(incident("NEW-P1", age_s=5)),
            IncidentOut.model_validate(incident("NEWER-P2", priority=2, age_s=1)),
            IncidentOut.model_validate(incident("ACK-P1", age_s=0, status="acknowledged")),
            IncidentOut.model_validate(incident("P3", priority=3, age_s=0)),
        ]
    )
    got = vm.newest_emergency()
    assert got is not None and got.id == "NEW-P1"
    vm.remove("NEW-P1")
    vm.remove("OLD-P1")
    got = vm.newest_emergency()
    assert got is not None and got.id == "NEWER-P2"


def test_overlays_draw_every_area_track_times_facilities_and_units() -> None:
    detail = IncidentDetailOut.model_validate(
        incident(
            service="vulnerable-sos",
            area={"circle": {"lat": 35.18, "lon": 128.08, "radius_m": 300}},
            details={
                "areas": [
                    {"polygon": [[35.17, 128.07], [35.17, 128.09], [35.19, 128.09]]},
                    {"circle": {"lat": 35.2, "lon": 128.1, "radius_m": 500}},
                    {"polygon": [[1, 2]]},  # not a polygon: skipped
                    "junk",
                ],
                "unit_positions": [
                    {"id": "PUMPER-1", "kind": "pumper", "lat": 35.181, "lon": 128.081, "at": T0.isoformat()},
                    {"id": "BAD", "lat": 999, "lon": 0},
                ],
            },
            track=[
                {"lat": 35.18, "lon": 128.08, "at": T0.isoformat()},
                {"lat": 35.181, "lon": 128.082, "at": (T0 + timedelta(seconds=65)).isoformat()},
            ],
            facilities=[
                {
                    "id": "F1",
                    "name": "소화전 12",
                    "kind": "hydrant",
                    "lat": 35.18,
                    "lon": 128.08,
                    "notes": "북쪽 골목",
                }
            ],
        )
    )
    out = incident_overlays(detail)
    assert [next(iter(a)) for a in out["areas"]] == ["polygon", "circle"]
    local = T0.astimezone()
    assert [p["at"] for p in out["track"]] == [
        local.strftime("%H:%M:%S"),
        (local + timedelta(seconds=65)).strftime("%H:%M:%S"),
    ]
    assert out["facilities"] == [
        {
            "id": "F1",
            "name": "소화전 12",
            "kind": "hydrant",
            "lat": 35.18,
            "lon": 128.08,
            "notes": "북쪽 골목",
        }
    ]
    assert [u["id"] for u in out["units"]] == ["PUMPER-1"]
    assert out["units"][0]["at"] == local.strftime("%H:%M:%S")


class Cam:
    def __init__(self, id: str, lat: float, lon: float) -> None:
        self.id, self.lat, self.lon = id, lat, lon


def test_cameras_in_a_drawn_area_nearest_first() -> None:
    cams = [Cam(f"C{k}", 35.18 + k * 0.001, 128.08) for k in range(10)]
    got = cameras_in_area({"circle": {"lat": 35.183, "lon": 128.08, "radius_m": 250}}, cams)
    assert got[0] == "C3" and set(got) == {"C1", "C2", "C3", "C4", "C5"}
    poly = {"polygon": [[35.1795, 128.079], [35.1795, 128.081], [35.1815, 128.081], [35.1815, 128.079]]}
    assert sorted(cameras_in_area(poly, cams)) == ["C0", "C1"]
    assert cameras_in_area({"circle": {"lat": 35.18, "lon": 128.08, "radius_m": 1e6}}, cams, limit=4) == [
        "C0",
        "C1",
        "C2",
        "C3",
    ]
    assert cameras_in_area({"nonsense": 1}, cams) == []


def test_map_payload_carries_every_cap_area_and_the_track() -> None:
    """What the console's markers and the wall's takeover map draw for an incident."""
    from app.console.map.markers import incident_map_payload

    areas = [
        {"polygon": [[35.17, 128.07], [35.17, 128.09], [35.19, 128.09]]},
        {"circle": {"lat": 35.2, "lon": 128.1, "radius_m": 500}},
        {"circle": {"lat": "x"}},  # broken: never reaches the page
    ]
    plain = IncidentOut.model_validate(incident(details={"areas": areas}))
    got = incident_map_payload(plain)
    assert [next(iter(a)) for a in got["areas"]] == ["polygon", "circle"] and "track" not in got
    detail = IncidentDetailOut.model_validate(
        incident(track=[{"lat": 35.18, "lon": 128.08, "at": T0.isoformat()}])
    )
    got = incident_map_payload(detail)
    assert "areas" not in got and got["track"] == [
        {"lat": 35.18, "lon": 128.08, "at": T0.astimezone().strftime("%H:%M:%S")}
    ]

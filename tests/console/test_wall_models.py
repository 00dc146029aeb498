"""The wall display's and the wall control panel's view models, without a window or an engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.client.engine import camera_stream_url
from app.console.wall.control import WallControlModel
from app.console.wall.model import (
    LinkState,
    Notice,
    WallDisplayModel,
    big_map,
    format_clock,
    grid_side,
    layout_cells,
    map_index,
    map_state,
    wall_from_event,
)
from app.domain.enums import Purpose
from app.formats.api import CameraOut, IncidentDetailOut, LiveEvent, WallOut

T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def wall(
    tiles: list[str | None],
    grid: int = 4,
    *,
    show_map: bool = False,
    mode: str = "normal",
    incident_id: str | None = None,
    at: datetime = T0,
    wall_id: str = "WALL-1",
    has_previous: bool = False,
) -> WallOut:
    return WallOut(
        id=wall_id,
        name=f"Wall {wall_id}",
        grid=grid,
        tiles=tiles,
        show_map=show_map,
        mode=mode,  # type: ignore[arg-type]
        incident_id=incident_id,
        has_previous=has_previous,
        updated_at=at,
    )


def kinds(cells: Any) -> list[str]:
    return [c.kind[0] for c in cells]  # c(amera), m(ap), e(mpty)


# ---------------------------------------------------------------------- layout → cells


@pytest.mark.parametrize(("grid", "side"), [(1, 1), (4, 2), (9, 3), (16, 4), (2, 2), (5, 3), (99, 4)])
def test_grid_side(grid: int, side: int) -> None:
    assert grid_side(grid) == side


def test_cells_follow_tiles_row_by_row_with_gaps_and_no_repeats() -> None:
    cells = layout_cells(4, ["A", None, "B", "A"], False)
    assert [(c.row, c.col) for c in cells] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert kinds(cells) == ["c", "e", "c", "e"]  # the repeated A leaves its cell empty
    assert [c.slot for c in cells] == [0, 1, 2, 3]
    assert [c.camera_id for c in layout_cells(9, ["A"], False)] == ["A", *[None] * 8]


def test_the_map_takes_the_first_free_cell_or_the_last() -> None:
    assert map_index(4, ["A", "B", "C"]) == 3
    assert map_index(4, ["A", None, "C"]) == 1
    assert map_index(4, ["A", "B", "C", "D"]) == 3  # the map wins over the last camera
    assert kinds(layout_cells(4, ["A", "B", "C"], True)) == ["c", "c", "c", "m"]
    assert kinds(layout_cells(1, ["A"], True)) == ["m"]


def test_a_big_map_takes_two_by_two_when_the_grid_has_room() -> None:
    assert big_map(9, ["A", "B", "C", "D"], True) and not big_map(9, ["A", "B", "C", "D"], False)
    assert not big_map(9, [f"C{i}" for i in range(6)], True)  # only 3 cells to spare
    assert not big_map(4, [], True)  # 2×2 grids keep a one-cell map
    cells = layout_cells(9, ["A", None, "B", "C", "D"], True)
    assert cells[0].kind == "map" and (cells[0].row_span, cells[0].col_span) == (2, 2)
    rest = cells[1:]
    assert [(c.row, c.col) for c in rest] == [(0, 2), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert [c.camera_id for c in rest] == ["A", "B", "C", "D", None]  # gaps closed behind the map
    assert [c.slot for c in rest] == [0, 1, 2, 3, 4]


def test_clock_format_has_the_weekday_in_the_display_language() -> None:
    t = datetime(2026, 11, 25, 14, 3, 7)  # a Wednesday
    assert format_clock(t, "en") == "2026-11-25 (Wed) 14:03:07"
    assert format_clock(t, "ko") == "2026-11-25 (수) 14:03:07"
    assert format_clock(t, "xx") == "2026-11-25 (Wed) 14:03:07"


# ---------------------------------------------------------------------- wall display model


def test_display_model_follows_layouts_and_ignores_older_ones() -> None:
    m = WallDisplayModel("WALL-1")
    assert m.view is None and m.notice() is Notice.CONNECTING and m.title == "WALL-1"
    assert m.apply_wall(wall(["A", "B"], at=T0))
    assert m.view is not None and m.view.camera_ids == ["A", "B"] and m.version == 1
    assert not m.apply_wall(wall(["A", "B"], at=T0))  # same thing again: nothing changed
    assert not m.apply_wall(wall(["C"], at=T0 - timedelta(seconds=1)))  # a slow GET crossing an event
    assert m.view.camera_ids == ["A", "B"]
    assert not m.apply_wall(wall(["C"], wall_id="WALL-2", at=T0 + timedelta(seconds=5)))  # another wall
    event = LiveEvent(
        type="wall.updated", seq=7, data=wall(["C"], 1, at=T0 + timedelta(seconds=2)).model_dump(mode="json")
    )
    assert m.apply_event(event) and m.view.grid == 1 and m.view.camera_ids == ["C"]
    assert not m.apply_event(LiveEvent(type="incident.updated", seq=8, data={"id": "X"}))
    assert wall_from_event(LiveEvent(type="wall.updated", seq=9, data={"id": "broken"})) is None


def test_display_model_notices_and_waiting_state() -> None:
    m = WallDisplayModel("WALL-9")
    assert m.set_link(LinkState.CONNECTED)
    assert not m.set_link(LinkState.CONNECTED)
    assert m.notice() is Notice.WAITING_FOR_LAYOUT
    assert m.wall_missing() and not m.wall_missing()
    assert m.status()["waiting"] is True and m.status()["cells"] == []
    m.apply_wall(wall(["A"], wall_id="WALL-9"))
    assert m.notice() is None and not m.missing
    m.set_link(LinkState.OFFLINE, "connection refused")
    assert m.notice() is Notice.UNREACHABLE  # the link problem shows first; the layout stays
    assert m.view is not None
    for state, notice in [
        (LinkState.UNAUTHORIZED, Notice.RELOGIN),
        (LinkState.LOGIN_REFUSED, Notice.LOGIN_REFUSED),
        (LinkState.NO_ACCOUNT, Notice.NO_ACCOUNT),
    ]:
        m.set_link(state)
        assert m.notice() is notice
    status = m.status()
    assert status["link"] == "no-account" and status["grid"] == 4
    assert status["cells"][0] == {"index": 0, "kind": "camera", "camera_id": "A"}
    assert m.wall_missing() and m.view is None  # the wall was removed: nothing of it is kept


def cam(cid: str, lat: float, lon: float) -> CameraOut:
    return CameraOut(id=cid, name=f"Camera {cid}", lat=lat, lon=lon, purpose=Purpose.CRIME)


def test_map_state_centres_on_the_incident_and_marks_its_cameras() -> None:
    m = WallDisplayModel("WALL-1")
    m.apply_wall(wall(["A", "B"], 4, show_map=True, mode="incident", incident_id="INC-1"))
    cams = {"A": cam("A", 35.0, 128.0), "B": cam("B", 35.2, 128.2), "C": cam("C", 35.1, 128.1)}
    incident = IncidentDetailOut.model_validate(
        {
            "id": "INC-1",
            "service": "112-dispatch",
            "status": "new",
            "title": "Fire at the market",
            "priority": 1,
            "exercise": False,
            "location": {"lat": 35.15, "lon": 128.15},
            "created_at": T0,
            "updated_at": T0,
            "cameras": [cams["C"].model_dump(mode="json")],
        }
    )
    state = map_state(m.view, cams, incident)
    assert [c["id"] for c in state.cameras] == ["A", "B", "C"]
    assert state.center == (35.15, 128.15) and state.incident is not None
    assert state.incident["id"] == "INC-1" and state.incident_title == "Fire at the market"
    plain = map_state(m.view, cams, None)
    assert plain.incident is None and plain.center == pytest.approx((35.1, 128.1))
    assert map_state(None, cams, incident).cameras == ()


# ---------------------------------------------------------------------- control panel model


def control(*walls: WallOut) -> WallControlModel:
    m = WallControlModel()
    m.reset(list(walls))
    return m


def test_control_model_lists_walls_and_keeps_the_selection() -> None:
    m = control(wall(["A"], wall_id="WALL-2"), wall(["B"], wall_id="WALL-1"))
    assert m.wall_ids() == ["WALL-1", "WALL-2"] and m.selected == "WALL-1"
    assert m.select("WALL-2") and not m.select("NOPE") and m.selected == "WALL-2"
    m.reset([wall(["B"], wall_id="WALL-1"), wall([], wall_id="WALL-2")])
    assert m.selected == "WALL-2"
    fresh = WallControlModel()
    fresh.select("NOPE")
    fresh.selected = "GONE"  # e.g. remembered from a console's settings, and no longer on the engine
    fresh.reset([wall(["B"], wall_id="WALL-1")])
    assert fresh.selected == "WALL-1"
    newer = wall(["C"], wall_id="WALL-1", at=T0 + timedelta(seconds=1))
    assert m.upsert(newer) and not m.upsert(wall(["D"], wall_id="WALL-1")) and not m.upsert(newer)
    event = LiveEvent(type="wall.updated", seq=1, data=wall([], wall_id="WALL-3").model_dump(mode="json"))
    assert m.apply_event(event) and "WALL-3" in m.wall_ids()
    assert not m.can_release("WALL-1") and not m.can_release(None)


def test_dropping_a_camera_places_moves_or_swaps_it() -> None:
    m = control(wall(["A", None, "B"]))
    drop = m.drop("WALL-1", 1, "C")
    assert drop is not None and drop.tiles == ["A", "C", "B"] and drop.grid == 4
    assert m.drop("WALL-1", 3, "D").tiles == ["A", None, "B", "D"]  # type: ignore[union-attr]
    assert m.drop("WALL-1", 2, "A").tiles == ["B", None, "A"]  # type: ignore[union-attr]  # swapped
    assert m.drop("WALL-1", 0, "A") is None  # already there
    assert m.drop("WALL-1", 7, "A") is None and m.drop("NOPE", 0, "A") is None


def test_dropping_on_the_map_replaces_it_and_clearing_removes_things() -> None:
    m = control(wall(["A", "B", "C"], show_map=True, mode="incident", incident_id="INC-1", has_previous=True))
    assert m.can_release("WALL-1")
    on_map = m.drop("WALL-1", 3, "D")
    assert on_map is not None and on_map.tiles == ["A", "B", "C", "D"] and not on_map.show_map
    cleared = m.clear("WALL-1", 1)
    assert cleared is not None and cleared.tiles == ["A", None, "C"] and cleared.show_map
    no_map = m.clear("WALL-1", 3)
    assert no_map is not None and no_map.tiles == ["A", "B", "C"] and not no_map.show_map
    big = control(wall(["A", None, "B"], 9, show_map=True))
    assert big.cells("WALL-1")[0].kind == "map"
    # cells behind a big map show the cameras closed up: a drop on the second one is slot 1
    assert big.drop("WALL-1", 2, "C").tiles == ["A", "C"]  # type: ignore[union-attr]
    assert big.drop("WALL-1", 0, "C").tiles == ["A", "B", "C"]  # type: ignore[union-attr]
    assert big.clear("WALL-1", 4) is None  # an empty cell: nothing to clear


def test_grid_changes_drop_cameras_beyond_the_new_grid() -> None:
    m = control(wall(["A", "B", "C", "D"]))
    assert m.with_grid("WALL-1", 1).tiles == ["A"]  # type: ignore[union-attr]
    assert m.with_grid("WALL-1", 9).tiles == ["A", "B", "C", "D"]  # type: ignore[union-attr]
    assert m.with_grid("WALL-1", 5) is None


def test_a_drawn_areas_cameras_make_the_walls_layout() -> None:
    m = control(wall(["CAM-9"], 16), wall([], 1, show_map=True, wall_id="WALL-2"))
    three = m.area_layout("WALL-1", ["CAM-1", "CAM-2", "CAM-2", "CAM-3"])
    assert three is not None and (three.grid, three.tiles, three.show_map) == (
        4,
        ["CAM-1", "CAM-2", "CAM-3"],
        False,
    )
    # A wall showing the map keeps it, with a cell for it: 4 cameras need a 3×3.
    four = m.area_layout("WALL-2", [f"CAM-{k}" for k in range(4)])
    assert four is not None and four.grid == 9 and four.show_map and len(four.tiles) == 4
    many = m.area_layout("WALL-1", [f"CAM-{k}" for k in range(30)])
    assert many is not None and many.grid == 16 and many.tiles == [f"CAM-{k}" for k in range(16)]
    assert m.area_layout("WALL-1", []) is None and m.area_layout("NOPE", ["CAM-1"]) is None


def test_presets_round_trip_and_bad_ones_are_dropped() -> None:
    m = control(wall(["A", None, "B"], show_map=True))
    assert m.save_preset("  Night shift  ", "WALL-1") and not m.save_preset("", "WALL-1")
    assert not m.save_preset("x", "NOPE")
    assert m.preset_names() == ["Night shift"]
    layout = m.preset_layout("Night shift")
    assert layout is not None and layout.tiles == ["A", None, "B"] and layout.show_map
    text = m.presets_json()
    other = WallControlModel()
    other.load_presets(text)
    assert other.preset_layout("Night shift") == layout
    other.load_presets('{"ok": {"grid": 1, "tiles": ["A"]}, "bad": {"grid": 3}, "worse": 5}')
    assert other.preset_names() == ["ok"]
    other.load_presets("not json")
    assert other.preset_names() == []
    assert m.delete_preset("Night shift") and not m.delete_preset("Night shift")


def test_relay_urls_ask_for_the_sub_stream_by_suffix() -> None:
    assert (
        camera_stream_url("http://h:1/", "gtm_a/b", "CAM 1", "sub")
        == "http://h:1/media/gtm_a%2Fb/CAM%201~sub.ts"
    )
    assert camera_stream_url("http://h:1", "t", "CAM-1", "main") == "http://h:1/media/t/CAM-1.ts"


def test_a_wall_list_read_before_an_event_does_not_undo_it() -> None:
    m = control(wall(["A"], wall_id="WALL-1"))
    m.upsert(wall(["B"], wall_id="WALL-1", at=T0 + timedelta(seconds=2)))
    m.upsert(wall([], wall_id="WALL-2", at=T0 + timedelta(seconds=3)))
    m.reset([wall(["A"], wall_id="WALL-1", at=T0 + timedelta(seconds=1))])  # travelled while the events came
    assert m.walls["WALL-1"].tiles == ["B"] and "WALL-2" in m.walls
    m.reset([wall(["C"], wall_id="WALL-1", at=T0 + timedelta(seconds=9))])
    assert m.walls["WALL-1"].tiles == ["C"]


def test_the_map_zooms_to_fit_the_incident_and_its_cameras() -> None:
    from app.console.wall.model import zoom_to_fit

    c = (35.19, 128.08)
    assert zoom_to_fit(c, []) == 17 and zoom_to_fit(c, [c]) == 18
    assert zoom_to_fit(c, [(35.1904, 128.0803)]) == 18  # cameras ~50 m away: as close as the map goes
    near, far = zoom_to_fit(c, [(35.195, 128.08)]), zoom_to_fit(c, [(35.23, 128.08)])
    assert 12 <= far < near <= 18
    assert zoom_to_fit(c, [(36.5, 129.9)]) == 12


def test_the_wall_basemap_comes_from_the_environment(tmp_path: Any) -> None:
    from app.console.wall.runner import basemap_from_env

    assert basemap_from_env({}).kind == "none"
    assert basemap_from_env({"GOLDENTIME_WALL_MAP_MBTILES": str(tmp_path / "missing.mbtiles")}).kind == "none"
    (tmp_path / "city.mbtiles").write_bytes(b"")
    assert basemap_from_env({"GOLDENTIME_WALL_MAP_MBTILES": str(tmp_path / "city.mbtiles")}).kind == "mbtiles"
    xyz = basemap_from_env({"GOLDENTIME_WALL_MAP_XYZ": "https://tiles.example/{z}/{x}/{y}.png"})
    assert xyz.kind == "xyz" and xyz.url.startswith("https://tiles.example/")
    assert basemap_from_env({"GOLDENTIME_WALL_MAP_XYZ": "https://no-placeholders.example"}).kind == "none"

"""Incidents bring their video: policy and camera order (pure, no screen)."""

from __future__ import annotations

from dataclasses import dataclass

from app.console.viewmodels.auto_video import cameras_for_wall, covers, parse_policy, wants_video


@dataclass
class Cam:
    id: str
    lat: float
    lon: float
    direction_deg: float | None = None
    fov_deg: float | None = None


P = (35.18, 128.08)


def test_policy_default_is_p1_p2() -> None:
    assert parse_policy(None) == "p1p2"
    assert parse_policy("bogus") == "p1p2"
    assert parse_policy("never") == "never"
    assert wants_video("p1p2", 1) and wants_video("p1p2", 2) and not wants_video("p1p2", 3)
    assert wants_video("always", 5) and not wants_video("never", 1)


def test_covering_cameras_first_then_nearest() -> None:
    near_away = Cam("near-away", P[0] - 0.0002, P[1], direction_deg=180.0, fov_deg=60.0)  # 22 m south, looks south
    far_looking = Cam("far-looking", P[0] - 0.0005, P[1], direction_deg=0.0, fov_deg=60.0)  # 55 m south, looks north
    nearest_no_fov = Cam("nearest", P[0] + 0.0001, P[1])
    far = Cam("far", P[0] + 0.01, P[1])
    assert covers(far_looking, *P) and not covers(near_away, *P)
    order = cameras_for_wall("p1p2", 1, *P, [far, near_away, nearest_no_fov, far_looking])
    assert order == ["far-looking", "nearest", "near-away", "far"]
    assert cameras_for_wall("p1p2", 3, *P, [far]) is None
    assert cameras_for_wall("never", 1, *P, [far]) is None
    assert cameras_for_wall("always", 1, *P, []) is None

"""Simulated RTSP/H.264 cameras (see :mod:`app.sim.cameras.sim`)."""

from app.sim.cameras.sim import (
    CameraSim,
    CameraSimError,
    SimCamera,
    default_cache_dir,
    main_sim_cameras,
    run_camera_sim,
)

__all__ = [
    "CameraSim",
    "CameraSimError",
    "SimCamera",
    "default_cache_dir",
    "main_sim_cameras",
    "run_camera_sim",
]

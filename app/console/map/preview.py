"""Look at the map with demo data around Jinju: ``python -m app.console.map.preview [--seconds N]``.

Under Xvfb: ``xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python -m app.console.map.preview --seconds 8``
and ``import -window root /tmp/map.png`` while it runs (or pass ``--grab /tmp/map.png``).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

from PySide6 import QtWebEngineWidgets  # noqa: F401  (before the QApplication)

from app.console.map.mbtiles import register_map_url_schemes
from app.console.map.page import BasemapConfig, build_map_page

JINJU = (35.18, 128.08)
PURPOSES = ["crime", "crime", "crime", "traffic", "traffic", "child-protection", "disaster", "other"]


def demo_cameras(n: int = 300, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    cams = []
    for k in range(n):
        r = abs(rnd.gauss(0, 0.025))
        a = rnd.uniform(0, 2 * math.pi)
        cams.append(
            {
                "id": f"CAM-{k + 1:04d}",
                "name": f"진주 CCTV {k + 1:04d}",
                "lat": JINJU[0] + r * math.cos(a),
                "lon": JINJU[1] + r * math.sin(a) * 1.2,
                "purpose": rnd.choice(PURPOSES),
                "state": "offline" if rnd.random() < 0.06 else "online",
                "direction_deg": rnd.uniform(0, 360) if rnd.random() < 0.9 else None,
                "fov_deg": rnd.choice([60.0, 90.0, 110.0, None]),
            }
        )
    return cams


def demo_districts() -> dict[str, Any]:
    """A 3×3 grid of made-up districts around the centre (lon/lat order, as GeoJSON wants)."""
    names = ["동부", "중앙", "서부", "북동", "북부", "북서", "남동", "남부", "남서"]
    feats = []
    step_lat, step_lon = 0.03, 0.036
    for i in range(3):
        for j in range(3):
            lat0 = JINJU[0] - 1.5 * step_lat + i * step_lat
            lon0 = JINJU[1] - 1.5 * step_lon + j * step_lon
            ring = [
                [lon0, lat0],
                [lon0 + step_lon, lat0],
                [lon0 + step_lon, lat0 + step_lat],
                [lon0, lat0 + step_lat],
            ]
            feats.append(
                {
                    "type": "Feature",
                    "properties": {"name": names[i * 3 + j] + "구역"},
                    "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                }
            )
    return {"type": "FeatureCollection", "features": feats}


def demo_incidents() -> list[dict[str, Any]]:
    lat, lon = JINJU
    return [
        {
            "id": "INC-1",
            "service": "112-emergency-video",
            "lat": lat + 0.006,
            "lon": lon - 0.01,
            "title": "폭행 신고 영상 요청",
            "priority": 1,
            "status": "new",
            "drill": False,
        },
        {
            "id": "INC-2",
            "service": "112-dispatch",
            "lat": lat - 0.012,
            "lon": lon + 0.015,
            "title": "차량 절도 용의자 추적",
            "priority": 2,
            "status": "acknowledged",
            "drill": False,
            "area": {"circle": {"lat": lat - 0.012, "lon": lon + 0.015, "radius_m": 600}},
        },
        {
            "id": "INC-3",
            "service": "119-dispatch",
            "lat": lat + 0.018,
            "lon": lon + 0.02,
            "title": "공장 화재",
            "priority": 1,
            "status": "new",
            "drill": False,
        },
        {
            "id": "INC-4",
            "service": "disaster-response",
            "lat": lat - 0.004,
            "lon": lon - 0.03,
            "title": "남강 수위 경보",
            "priority": 2,
            "status": "acknowledged",
            "drill": False,
            "area": {
                "polygon": [
                    [lat - 0.01, lon - 0.045],
                    [lat + 0.002, lon - 0.04],
                    [lat + 0.003, lon - 0.02],
                    [lat - 0.012, lon - 0.018],
                ]
            },
        },
        {
            "id": "INC-5",
            "service": "vulnerable-sos",
            "lat": lat + 0.01,
            "lon": lon + 0.004,
            "title": "치매 어르신 실종",
            "priority": 1,
            "status": "new",
            "drill": False,
        },
        {
            "id": "INC-6",
            "service": "119-dispatch",
            "lat": lat - 0.02,
            "lon": lon - 0.008,
            "title": "구급 출동 훈련",
            "priority": 3,
            "status": "acknowledged",
            "drill": True,
        },
    ]


def demo_track() -> list[list[float]]:
    lat, lon = JINJU
    return [[lat + 0.002 + k * 0.0011, lon - 0.006 + k * 0.0013 + 0.0006 * math.sin(k)] for k in range(9)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0, help="quit after this long (0: stay open)")
    ap.add_argument("--zoom", type=int, default=13)
    ap.add_argument("--mbtiles", type=Path, help="offline basemap file")
    ap.add_argument("--xyz", help="XYZ tile URL template")
    ap.add_argument("--grab", type=Path, help="save a screenshot of the window here before quitting")
    ap.add_argument("--notice", default="", help="show this notice")
    ap.add_argument("--center", help="lat,lon to fly to once ready")
    ap.add_argument("--city", type=Path, help="a simulated city's directory: draw its districts and streets")
    args = ap.parse_args(argv)

    register_map_url_schemes()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.console.map.widget import MapView

    app = QApplication(sys.argv)
    if args.mbtiles:
        basemap = BasemapConfig.mbtiles(args.mbtiles)
    elif args.xyz:
        basemap = BasemapConfig.xyz(args.xyz, "© OpenStreetMap contributors")
    else:
        basemap = BasemapConfig.none()
    out = Path(tempfile.mkdtemp(prefix="gt-map-preview-"))
    districts, streets = demo_districts(), None
    if args.city:
        import json

        districts = json.loads((args.city / "districts.geojson").read_text(encoding="utf-8"))
        streets = json.loads((args.city / "streets.geojson").read_text(encoding="utf-8"))
    page = build_map_page(out, JINJU, args.zoom, districts, [], basemap, streets_geojson=streets)
    view = MapView(page, basemap, start_drags=False)
    view.resize(1500, 950)
    view.set_cameras(demo_cameras())
    for inc in demo_incidents():
        view.upsert_incident(inc)
    view.set_track("INC-5", demo_track())
    view.set_alert_area(
        "INC-5", {"circle": {"lat": JINJU[0] + 0.012, "lon": JINJU[1] - 0.001, "radius_m": 400}}
    )
    view.select_cameras(["CAM-0001", "CAM-0002", "CAM-0003"])
    if args.center:
        lat, lon = (float(v) for v in args.center.split(","))
        view.fly_to(lat, lon, args.zoom)
    if args.notice:
        view.show_notice(args.notice)
    view.cameraClicked.connect(lambda cid: print("camera clicked", cid))
    view.incidentClicked.connect(lambda iid: print("incident clicked", iid))
    view.areaDrawn.connect(lambda a: print("area drawn", a))
    view.show()
    if args.seconds:

        def finish() -> None:
            if args.grab:
                view.grab().save(str(args.grab))
            app.quit()

        QTimer.singleShot(int(args.seconds * 1000), finish)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

"""The map page (pure, no Qt) and the vendored Leaflet files."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import sys
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.console.map.page import (
    DEFAULT_VENDOR_DIR,
    MBTILES_URL_TEMPLATE,
    QWEBCHANNEL_JS,
    BasemapConfig,
    build_map_page,
    camera_payload,
)
from app.domain.camera import Camera
from app.domain.enums import Purpose

ROOT = Path(__file__).resolve().parents[2]
CENTER = (35.18, 128.08)


def _fetch_vendor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gt_fetch_vendor", ROOT / "packaging" / "fetch_vendor.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up
    spec.loader.exec_module(mod)
    return mod


def _cameras(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"CAM-{k:04d}",
            "name": f"camera {k}",
            "lat": CENTER[0] + (k % 20) * 0.001,
            "lon": CENTER[1] + (k // 20) * 0.001,
            "purpose": "crime",
            "state": "online",
            "direction_deg": 90.0,
            "fov_deg": 60.0,
        }
        for k in range(n)
    ]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.urls.append(str(a["href"]))


DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "중앙구역"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[128.07, 35.17], [128.09, 35.17], [128.09, 35.19], [128.07, 35.17]]],
            },
        }
    ],
}


@pytest.mark.parametrize(
    "basemap",
    [
        BasemapConfig.none(),
        BasemapConfig.xyz("https://tile.example.org/{z}/{x}/{y}.png", "© example"),
    ],
    ids=["none", "xyz"],
)
def test_page_loads_only_local_scripts_and_styles(tmp_path: Path, basemap: BasemapConfig) -> None:
    page = build_map_page(tmp_path / "map", CENTER, 13, DISTRICTS, _cameras(5), basemap)
    html = page.read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)
    assert parser.urls, "no scripts or stylesheets found"
    for url in parser.urls:
        assert "cdn" not in url.lower() and not url.lower().startswith(("http:", "https:", "//")), url
        if url != QWEBCHANNEL_JS:
            assert (page.parent / url).is_file(), f"{url} is not next to the page"
    assert QWEBCHANNEL_JS in parser.urls
    names = [Path(u).name for u in parser.urls]
    assert {"leaflet.js", "jquery.min.js", "leaflet.markercluster.js", "gt_map.js", "gt_map.css"} <= set(
        names
    )
    # No Bootstrap or Font Awesome, anywhere.
    assert "bootstrap" not in html.lower() and "fontawesome" not in html.lower()
    assert "maxZoom" in html and "gt.init(" in html


def test_folium_defaults_are_untouched(tmp_path: Path) -> None:
    import folium

    before = list(folium.Map.default_js)
    build_map_page(tmp_path, CENTER, 13, None, [], BasemapConfig.none())
    assert folium.Map.default_js == before, "page.py must override per instance, not class-wide"


def test_mbtiles_basemap_uses_the_scheme(tmp_path: Path) -> None:
    page = build_map_page(tmp_path, CENTER, 13, None, [], BasemapConfig.mbtiles(tmp_path / "none.mbtiles"))
    assert MBTILES_URL_TEMPLATE in page.read_text(encoding="utf-8")


def test_config_cannot_close_the_script(tmp_path: Path) -> None:
    cams = _cameras(1)
    cams[0]["name"] = "</script><script>alert(1)</script>"
    html = build_map_page(tmp_path, CENTER, 13, None, cams, BasemapConfig.none()).read_text(encoding="utf-8")
    assert "</script><script>alert(1)" not in html
    config = re.search(r"gt\.init\(\w+, (.*)\);", html)
    assert config is not None
    assert json.loads(config.group(1).replace("<\\/", "</"))["cameras"][0]["name"] == cams[0]["name"]


def test_camera_payload_from_domain() -> None:
    cam = Camera("C1", "Gate", 35.1, 128.1, Purpose.TRAFFIC, direction_deg=45.0, fov_deg=None)
    assert camera_payload(cam, "offline") == {
        "id": "C1",
        "name": "Gate",
        "lat": 35.1,
        "lon": 128.1,
        "purpose": "traffic",
        "state": "offline",
        "direction_deg": 45.0,
        "fov_deg": None,
        "approximate": False,
    }
    assert camera_payload(dataclasses.replace(cam, approximate=True))["approximate"] is True


def test_xyz_template_is_checked() -> None:
    with pytest.raises(ValueError):
        BasemapConfig.xyz("https://tile.example.org/tiles.png", "x")


def test_missing_vendor_files_fail_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="fetch_vendor"):
        build_map_page(tmp_path, CENTER, 13, None, [], BasemapConfig.none(), vendor_dir=tmp_path / "empty")


# ---- vendoring -------------------------------------------------------------------------------------


def test_vendor_files_match_the_lock() -> None:
    fv = _fetch_vendor()
    assert fv.check() == [], "run: python packaging/fetch_vendor.py"
    assert DEFAULT_VENDOR_DIR == fv.VENDOR_DIR
    for pin in fv.load_lock():
        assert pin.integrity.startswith("sha512-") and all(d for _, d in pin.files.values())


def test_vendor_fetch_is_idempotent_and_detects_tampering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fv = _fetch_vendor()
    vendor = tmp_path / "vendor"
    shutil.copytree(fv.VENDOR_DIR, vendor)

    def no_network(spec: str, workdir: Path) -> Path:
        raise AssertionError(f"fetched {spec} although it was present")

    monkeypatch.setattr(fv, "_npm_pack", no_network)
    assert fv.fetch(vendor) == []

    js = vendor / "leaflet" / "leaflet.js"
    js.write_text(js.read_text(encoding="utf-8") + "\n// tampered\n", encoding="utf-8")
    problems = fv.check(vendor)
    assert len(problems) == 1 and "leaflet.js" in problems[0]
    with pytest.raises(AssertionError, match=r"leaflet@1\.9\.4"):
        fv.fetch(vendor)  # would re-fetch exactly the broken package


def test_vendor_rejects_a_tarball_with_the_wrong_integrity(tmp_path: Path) -> None:
    fv = _fetch_vendor()
    pin = next(p for p in fv.load_lock() if p.name == "jquery")
    fake = tmp_path / "jquery-3.7.1.tgz"
    src = tmp_path / "package" / "dist"
    src.mkdir(parents=True)
    (src / "jquery.min.js").write_text("window.evil = 1;", encoding="utf-8")
    with tarfile.open(fake, "w:gz") as tar:
        tar.add(tmp_path / "package", arcname="package")
    with pytest.raises(fv.VendorError, match="integrity mismatch"):
        fv.install(pin, fake, tmp_path / "vendor")
    assert not (tmp_path / "vendor" / "jquery").exists()
    assert fv.main(["--tarballs", str(tmp_path), "--dest", str(tmp_path / "vendor")]) == 1


def test_run_console_keeps_the_demo_districts_and_the_page_draws_them(tmp_path: Path) -> None:
    """``run_console(districts_geojson=…)`` used to drop the file: the map never drew the demo's districts."""
    from app.console.bootstrap import console_options
    from app.sim.city import generate_city

    files = generate_city(tmp_path / "city")
    options = console_options("http://127.0.0.1:1", districts_geojson=files.districts_geojson)
    assert options.districts_geojson == files.districts_geojson
    districts = json.loads(files.districts_geojson.read_text(encoding="utf-8"))
    names = [f["properties"]["name"] for f in districts["features"]]
    assert len(names) >= 9
    page = build_map_page(tmp_path / "page", (35.18, 128.08), 14, districts, [], BasemapConfig.none())
    html = page.read_text(encoding="utf-8")
    for name in names:
        assert name in html or json.dumps(name) in html


def test_demo_city_streets_become_the_basemap(tmp_path: Path) -> None:
    """The demo city's river, main roads and local streets are drawn on the page (offline, Korean names)."""
    from app.sim.city import generate_city

    files = generate_city(tmp_path / "city")
    streets = json.loads(files.streets_geojson.read_text(encoding="utf-8"))
    page = build_map_page(
        tmp_path / "page", (35.18, 128.08), 14, None, [], BasemapConfig.none(), streets_geojson=streets
    )
    html = page.read_text(encoding="utf-8")
    assert "streetsVar" in html
    kinds = {f["properties"]["kind"] for f in streets["features"]}
    assert {"river", "main", "local"} <= kinds
    for f in streets["features"]:
        if f["properties"]["kind"] in ("main", "river"):
            name = f["properties"]["name"]
            assert name in html or json.dumps(name) in html

"""Build the console's map page once, with folium, for offline use (no Qt here).

The page is written to a file (``setHtml`` cannot show pages over 2 MB and without a base URL the
QWebChannel never connects) together with copies of the vendored Leaflet files, ``gt_map.js`` and
``gt_map.css``; every script and stylesheet is a relative URL next to the page, except
``qrc:///qtwebchannel/qwebchannel.js`` which Qt serves from its resources. Live changes never rebuild
the page: ``MapView`` pushes them through ``gt_map.js``.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import folium
from branca.element import MacroElement
from folium.template import Template

from app.domain.camera import Camera

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where ``packaging/fetch_vendor.py`` puts the pinned Leaflet files (resources/vendor/ in a checkout).
DEFAULT_VENDOR_DIR = PACKAGE_DIR.parents[2] / "resources" / "vendor"
PAGE_NAME = "map.html"
ASSET_DIR = "assets"
#: Host part of the tile URLs served by :class:`app.console.map.mbtiles.MbtilesSchemeHandler`.
MBTILES_SCHEME = "mbtiles"
MBTILES_HOST = "basemap"
MBTILES_URL_TEMPLATE = f"{MBTILES_SCHEME}://{MBTILES_HOST}/{{z}}/{{x}}/{{y}}"
MAX_ZOOM = 18
QWEBCHANNEL_JS = "qrc:///qtwebchannel/qwebchannel.js"

#: (name, path relative to the vendor dir) in load order.
VENDOR_JS: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet/leaflet.js"),
    ("jquery", "jquery/jquery.min.js"),
    ("markercluster", "leaflet.markercluster/leaflet.markercluster.js"),
)
VENDOR_CSS: tuple[tuple[str, str], ...] = (
    ("leaflet_css", "leaflet/leaflet.css"),
    ("markercluster_css", "leaflet.markercluster/MarkerCluster.css"),
    ("markercluster_default_css", "leaflet.markercluster/MarkerCluster.Default.css"),
)
OWN_FILES = ("gt_map.js", "gt_map.css")


@dataclass(frozen=True, slots=True)
class BasemapConfig:
    """Where base tiles come from: nothing, an XYZ tile server, or an offline MBTiles file.

    Build one with :meth:`none`, :meth:`xyz` or :meth:`mbtiles`.
    """

    kind: Literal["none", "xyz", "mbtiles"] = "none"
    url: str = ""
    attribution: str = ""
    max_zoom: int = MAX_ZOOM
    path: Path | None = None

    @classmethod
    def none(cls) -> BasemapConfig:
        return cls("none")

    @classmethod
    def xyz(cls, url: str, attribution: str, max_zoom: int = 19) -> BasemapConfig:
        """``url`` is a template such as ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``."""
        if not all(k in url for k in ("{z}", "{x}", "{y}")):
            raise ValueError(f"XYZ url template needs {{z}}, {{x}} and {{y}}: {url!r}")
        return cls("xyz", url=url, attribution=attribution, max_zoom=max_zoom)

    @classmethod
    def mbtiles(cls, path: Path | str) -> BasemapConfig:
        return cls("mbtiles", path=Path(path))

    @property
    def needs_remote_access(self) -> bool:
        """True when the page must be allowed to reach http(s) URLs (an XYZ tile server)."""
        return self.kind == "xyz"


def mbtiles_metadata(path: Path) -> dict[str, str]:
    """The ``metadata`` table of an MBTiles file (empty if the file cannot be read)."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return {str(k): str(v) for k, v in con.execute("SELECT name, value FROM metadata")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.warning("cannot read MBTiles metadata from %s: %s", path, exc)
        return {}


def camera_payload(camera: Camera, state: str = "online") -> dict[str, Any]:
    """The JSON shape ``gt.setCameras`` takes, from a domain camera."""
    return {
        "id": camera.id,
        "name": camera.name,
        "lat": camera.lat,
        "lon": camera.lon,
        "purpose": str(camera.purpose),
        "state": state,
        "direction_deg": camera.direction_deg,
        "fov_deg": camera.fov_deg,
        "approximate": camera.approximate,
    }


class _GtInit(MacroElement):
    """Runs ``gt.init(<map>, <config>)`` after folium has created the map and its layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gt.init({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
        """
    )

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GtInit"
        # "</" must not end the inline <script> early.
        self.config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")


def _copy_assets(vendor_dir: Path, dest: Path) -> None:
    missing = [rel for _, rel in (*VENDOR_JS, *VENDOR_CSS) if not (vendor_dir / rel).is_file()]
    if missing:
        raise FileNotFoundError(
            f"vendored map files missing under {vendor_dir}: {', '.join(missing)} "
            "(run: python packaging/fetch_vendor.py)"
        )
    for pkg in sorted({rel.split("/")[0] for _, rel in (*VENDOR_JS, *VENDOR_CSS)}):
        shutil.copytree(vendor_dir / pkg, dest / "vendor" / pkg, dirs_exist_ok=True)
    for name in OWN_FILES:
        shutil.copy2(PACKAGE_DIR / name, dest / name)


def build_map_page(
    out_dir: Path,
    center: Sequence[float],
    zoom: int,
    districts_geojson: dict[str, Any] | None,
    cameras: list[dict[str, Any]],
    basemap: BasemapConfig,
    *,
    vendor_dir: Path | None = None,
    labels: Mapping[str, Any] | None = None,
    streets_geojson: dict[str, Any] | None = None,
) -> Path:
    """Write the map page and its assets into ``out_dir``; returns the page's path.

    ``cameras`` are ``gt.setCameras`` dicts (see :func:`camera_payload`); the live view replaces them
    later. ``labels`` are optional initial UI strings (``MapView`` sends translated ones on ready).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    assets = out_dir / ASSET_DIR
    assets.mkdir(exist_ok=True)
    _copy_assets(vendor_dir or DEFAULT_VENDOR_DIR, assets)

    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        maxZoom=MAX_ZOOM,
        control_scale=True,
        prefer_canvas=False,
    )
    # Per instance, never add_js_link (it changes folium's class-wide list): no CDN, no Bootstrap or
    # Font Awesome, only the pinned local files.
    m.default_js = [(name, f"{ASSET_DIR}/vendor/{rel}") for name, rel in VENDOR_JS] + [
        ("qwebchannel", QWEBCHANNEL_JS),
        ("gt_map", f"{ASSET_DIR}/gt_map.js"),
    ]
    m.default_css = [(name, f"{ASSET_DIR}/vendor/{rel}") for name, rel in VENDOR_CSS] + [
        ("gt_map_css", f"{ASSET_DIR}/gt_map.css"),
    ]

    config: dict[str, Any] = {
        "basemap": {"kind": basemap.kind},
        "cameras": cameras,
        "wedgeMinZoom": 16,
        "disableClusteringAtZoom": 16,  # wedges show from 16: every wedge has its marker
    }
    if labels:
        config["labels"] = dict(labels)

    tile_url, attribution, native_zoom = _tile_source(basemap)
    if tile_url:
        layer = folium.TileLayer(
            tiles=tile_url,
            attr=attribution or " ",
            name="basemap",
            max_zoom=MAX_ZOOM,
            max_native_zoom=min(native_zoom, MAX_ZOOM),
            control=False,
        )
        layer.add_to(m)
        config["tileLayerVar"] = layer.get_name()

    if streets_geojson and streets_geojson.get("features"):
        # The demo city's own basemap (offline, every zoom): the river, main roads, local streets.
        streets = folium.GeoJson(
            streets_geojson,
            name="streets",
            style_function=_street_style,
            control=False,
        )
        streets.add_to(m)
        config["streetsVar"] = streets.get_name()  # gt_map.js names the river and the main roads

    if districts_geojson and districts_geojson.get("features"):
        gj = folium.GeoJson(
            districts_geojson,
            name="districts",
            style_function=lambda _f: {
                "color": "#37474f",
                "weight": 1.5,
                "opacity": 0.8,
                "fillColor": "#90a4ae",
                "fillOpacity": 0.06,
            },
            control=False,
        )
        gj.add_to(m)
        config["districtsVar"] = gj.get_name()  # gt_map.js labels each district with properties.name

    _GtInit(config).add_to(m)
    page = out_dir / PAGE_NAME
    m.save(str(page))
    return page


_STREET_STYLES: dict[str, dict[str, Any]] = {
    "river": {"color": "#1e5a8a", "weight": 14, "opacity": 0.9},
    "main": {"color": "#c9a227", "weight": 5, "opacity": 0.9},
    "local": {"color": "#5f6b78", "weight": 2, "opacity": 0.85},
}


def _street_style(feature: dict[str, Any]) -> dict[str, Any]:
    kind = str((feature.get("properties") or {}).get("kind", "local"))
    return dict(_STREET_STYLES.get(kind, _STREET_STYLES["local"]))


def _tile_source(basemap: BasemapConfig) -> tuple[str, str, int]:
    if basemap.kind == "xyz":
        return basemap.url, basemap.attribution, basemap.max_zoom
    if basemap.kind == "mbtiles" and basemap.path is not None:
        meta = mbtiles_metadata(basemap.path)
        try:
            native = int(meta.get("maxzoom", basemap.max_zoom))
        except ValueError:
            native = basemap.max_zoom
        return MBTILES_URL_TEMPLATE, meta.get("attribution", ""), native
    return "", "", MAX_ZOOM

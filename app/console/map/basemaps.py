"""Basemaps an operator can pick (pure, no Qt): tile servers, WMS and offline tile files.

A site lists its basemaps in the console's settings (``[map] basemaps``, a JSON list edited in
**Settings → Map**); the map shows them in its layer control (one at a time: street, satellite, …) with
their attribution, and remembers the operator's choice (``[map] basemap``).

Kinds:

- ``xyz``: a URL template with ``{z}``, ``{x}``, ``{y}`` (and optionally ``{s}`` and ``{key}``), e.g. a
  site's own tile server or a national basemap service with its API key.
- ``wmts``: a WMTS REST (``ResourceURL``) template with ``{TileMatrix}``, ``{TileRow}``, ``{TileCol}``
  (GoogleMapsCompatible / EPSG:3857 tile matrix set); ``{z}/{y}/{x}`` are accepted too.
- ``wms``: a WMS endpoint (``GetMap`` in EPSG:3857, 256-pixel tiles) and its ``layers``.
- ``mbtiles`` / ``pmtiles``: an offline file carried onto an air-gapped network, served to the page by
  the console itself through its ``mbtiles://`` URL scheme (never over the network).

The ``key`` replaces ``{key}`` in the URL (a WMS with a key puts ``{key}`` in its URL's query).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

__all__ = [
    "BASEMAP_KINDS",
    "CITY_BASEMAP",
    "BasemapSource",
    "basemaps_from_json",
    "basemaps_to_json",
    "legacy_basemaps",
    "page_layers",
]

BasemapKind = Literal["xyz", "wmts", "wms", "mbtiles", "pmtiles"]
BASEMAP_KINDS: tuple[str, ...] = get_args(BasemapKind)
FILE_KINDS = ("mbtiles", "pmtiles")
#: The name the layer control gives the demo city's own vector basemap.
CITY_BASEMAP = "city"
MAX_BASEMAPS = 12
_WMTS_PLACEHOLDERS = {"{TileMatrix}": "{z}", "{TileRow}": "{y}", "{TileCol}": "{x}"}


@dataclass(frozen=True, slots=True)
class BasemapSource:
    """One basemap. ``validate()`` says what is wrong with it (an empty list: usable)."""

    name: str
    kind: BasemapKind
    url: str = ""
    key: str = ""
    layers: str = ""
    path: str = ""
    attribution: str = ""
    max_zoom: int = 19
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not self.name.strip():
            problems.append("a basemap needs a name")
        if self.kind not in BASEMAP_KINDS:
            problems.append(f"unknown basemap kind {self.kind!r}")
            return problems
        if not 1 <= self.max_zoom <= 22:
            problems.append("the maximum zoom must be between 1 and 22")
        if self.kind in FILE_KINDS:
            if not self.path.strip():
                problems.append(f"a {self.kind} basemap needs a file")
            return problems
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append("the URL must start with http:// or https:// and name a server")
        if "{key}" in self.url and not self.key:
            problems.append("the URL has {key} but no key is set")
        if self.kind == "xyz" and not all(p in self.url for p in ("{z}", "{x}", "{y}")):
            problems.append("an XYZ URL needs {z}, {x} and {y}")
        if self.kind == "wmts":
            t = self.tile_url()
            if not all(p in t for p in ("{z}", "{x}", "{y}")):
                problems.append("a WMTS URL needs {TileMatrix}, {TileRow} and {TileCol}")
        if self.kind == "wms" and not self.layers.strip():
            problems.append("a WMS basemap needs its layers")
        return problems

    @property
    def is_remote(self) -> bool:
        return self.kind not in FILE_KINDS

    def tile_url(self) -> str:
        """The Leaflet URL template (key filled in, WMTS placeholders turned into z/x/y)."""
        url = self.url
        if self.kind == "wmts":
            for a, b in _WMTS_PLACEHOLDERS.items():
                url = url.replace(a, b)
        # Leaflet would substitute {key} from the layer options too, but a literal keeps it out of them.
        return url.replace("{key}", self.key)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra", None)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BasemapSource:
        kind = str(d.get("kind", ""))
        try:
            max_zoom = int(d.get("max_zoom", 19))
        except (TypeError, ValueError):
            max_zoom = 0
        return cls(
            name=str(d.get("name", "")).strip(),
            kind=kind,  # type: ignore[arg-type]  # checked by validate()
            url=str(d.get("url", "")).strip(),
            key=str(d.get("key", "")).strip(),
            layers=str(d.get("layers", "")).strip(),
            path=str(d.get("path", "")).strip(),
            attribution=str(d.get("attribution", "")).strip(),
            max_zoom=max_zoom,
        )


def basemaps_from_json(text: Any) -> tuple[list[BasemapSource], list[str]]:
    """Parse the ``map/basemaps`` setting: (usable basemaps, problems with the rest)."""
    if not text:
        return [], []
    try:
        raw = json.loads(str(text))
    except ValueError as exc:
        return [], [f"the basemap list is not valid JSON: {exc}"]
    if not isinstance(raw, list):
        return [], ["the basemap list must be a JSON list"]
    out: list[BasemapSource] = []
    problems: list[str] = []
    names: set[str] = set()
    for k, item in enumerate(raw[:MAX_BASEMAPS], start=1):
        if not isinstance(item, dict):
            problems.append(f"basemap {k}: not an object")
            continue
        src = BasemapSource.from_dict(item)
        errs = src.validate()
        if src.name in names or src.name == CITY_BASEMAP:
            errs.append(f"the name {src.name!r} is used twice")
        if errs:
            problems.append(f"basemap {k} ({src.name or '?'}): " + "; ".join(errs))
            continue
        names.add(src.name)
        out.append(src)
    if len(raw) > MAX_BASEMAPS:
        problems.append(f"only the first {MAX_BASEMAPS} basemaps are used")
    return out, problems


def basemaps_to_json(sources: Iterable[BasemapSource]) -> str:
    return json.dumps([s.to_dict() for s in sources], ensure_ascii=False)


def legacy_basemaps(mbtiles: Any, xyz_url: Any, xyz_attribution: Any) -> list[BasemapSource]:
    """The older single-basemap settings (``map/mbtiles``, ``map/xyz_url``) as a list."""
    out: list[BasemapSource] = []
    if xyz_url:
        out.append(BasemapSource("XYZ", "xyz", url=str(xyz_url), attribution=str(xyz_attribution or "")))
    if mbtiles:
        out.append(BasemapSource("MBTiles", "mbtiles", path=str(mbtiles)))
    return [s for s in out if not s.validate()]


def file_host(index: int) -> str:
    """The ``mbtiles://`` host the console serves the ``index``-th basemap file under."""
    return f"file{index}"


def page_layers(sources: Iterable[BasemapSource], *, scheme: str = "mbtiles") -> list[dict[str, Any]]:
    """What ``gt.setBasemaps`` takes: one entry per basemap, in order."""
    layers: list[dict[str, Any]] = []
    for k, s in enumerate(sources):
        entry: dict[str, Any] = {
            "name": s.name,
            "kind": s.kind,
            "attribution": s.attribution,
            "maxZoom": 18,
            "maxNativeZoom": s.max_zoom,
        }
        if s.kind in FILE_KINDS:
            entry["url"] = f"{scheme}://{file_host(k)}/{{z}}/{{x}}/{{y}}"
        elif s.kind == "wms":
            entry["url"] = s.tile_url()
            entry["layers"] = s.layers
        else:
            entry["url"] = s.tile_url()
        layers.append(entry)
    return layers

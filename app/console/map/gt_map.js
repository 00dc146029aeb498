/*
 * GoldenTime live map layer logic (loaded by the page that app/console/map/page.py builds once).
 *
 * Python -> JS: window.gt.<function>(JSON literal) through QWebEnginePage.runJavaScript.
 *   Functions that return data return JSON.stringify(...) (runJavaScript returns objects as '' in Qt 6.11).
 * JS -> Python: the QWebChannel object "bridge" (app/console/map/widget.py, MapBridge):
 *   bridge.ready(), bridge.cameraClicked(id), bridge.incidentClicked(id), bridge.areaDrawn(json),
 *   bridge.cameraDragStarted(id).
 * Every user-visible string comes from Python (gt.setLabels); the English fallbacks below only show when
 * the page is opened outside the console.
 */
(function () {
  "use strict";

  var gt = {};
  window.gt = gt;

  var PURPOSE_COLORS = {
    "crime": "#3949ab",
    "traffic": "#00897b",
    "disaster": "#f4511e",
    "child-protection": "#8e24aa",
    "other": "#6d6d6d"
  };
  var SVG_VIDEO =
    '<svg viewBox="0 0 24 24" width="16" height="16"><rect x="2" y="6" width="13" height="12" rx="2" fill="#fff"/>' +
    '<path d="M16 10l6-3.5v11L16 14z" fill="#fff"/></svg>';
  var SVG_WARNING =
    '<svg viewBox="0 0 24 24" width="17" height="17"><path d="M12 2L1 21h22z" fill="#fff"/>' +
    '<rect x="11" y="9" width="2" height="6" fill="#ef6c00"/><rect x="11" y="16.5" width="2" height="2" fill="#ef6c00"/></svg>';
  var SERVICES = {
    "112-emergency-video": { color: "#00838f", glyph: SVG_VIDEO, small: "112" },
    "112-dispatch": { color: "#1565c0", glyph: "112", small: "" },
    "119-dispatch": { color: "#c62828", glyph: "119", small: "" },
    "disaster-response": { color: "#ef6c00", glyph: SVG_WARNING, small: "" },
    "vulnerable-sos": { color: "#ad1457", glyph: "SOS", small: "" }
  };
  var DEFAULT_SERVICE = { color: "#455a64", glyph: "?", small: "" };

  var labels = {
    districts: "Districts", cameras: "Cameras", fov: "Camera views", incidents: "Incidents",
    drill: "DRILL", online: "online", offline: "offline",
    noBasemap: "No basemap configured: districts, cameras and incidents only.",
    basemapUnreachable: "Basemap unreachable: districts, cameras and incidents only.",
    drawCircle: "Draw a circle to select cameras", drawPolygon: "Draw a polygon to select cameras",
    clearDrawn: "Clear the drawn area", drawCircleHint: "Press and drag to draw a circle. Esc cancels.",
    drawPolygonHint: "Click to add corners, double-click to finish. Esc cancels.",
    approximate: "approximate position", cityMap: "City map (offline)", basemap: "Basemap",
    facilities: "119 facilities", units: "Dispatched units", accessNotes: "Access",
    services: {}, purposes: {}, facilityKinds: {}
  };

  var map = null;
  var bridge = null;
  var cfg = {};
  var cameras = new Map();   // id -> {data, marker, wedge}
  var incidents = new Map(); // id -> {data, marker, area, track}
  var selected = new Set();
  var cluster, selectedLayer, wedgeLayer, incidentLayer, areaLayer, trackLayer, drawnLayer;
  var facilityLayer, unitLayer;
  var districtsLayer = null;
  var layerControl = null;
  var drawControl = null;
  var notices = { app: null, basemap: null, draw: null };
  var basemapNotice = null; // key into labels
  var tiles = { loaded: 0, failed: 0, byName: {} };
  var draw = { mode: null, center: null, shape: null, points: [], rubber: null };
  var drag = null; // {id, x, y, started}
  var drawnCount = 0;

  function esc(s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function call(name, arg) {
    if (bridge && typeof bridge[name] === "function") {
      if (arg === undefined) bridge[name](); else bridge[name](arg);
    }
  }

  // ---- cameras -------------------------------------------------------------------------------------

  function purposeColor(p) { return PURPOSE_COLORS[p] || PURPOSE_COLORS.other; }

  function cameraIcon(c) {
    var sel = selected.has(c.id);
    var off = c.state === "offline";
    var size = sel ? 20 : 14;
    var cls = "gt-cam" + (off ? " gt-cam-offline" : "") + (sel ? " gt-cam-selected" : "") +
      (c.approximate ? " gt-cam-approx" : "");
    return L.divIcon({
      className: "gt-cam-icon",
      html: '<div class="' + cls + '" data-cam-id="' + esc(c.id) + '" style="--c:' + purposeColor(c.purpose) +
        '">' + (off ? "<span>&times;</span>" : "") + "</div>",
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2]
    });
  }

  function cameraTooltip(c) {
    var purpose = labels.purposes[c.purpose] || c.purpose || "";
    var state = c.state === "offline" ? labels.offline : labels.online;
    return "<b>" + esc(c.name || c.id) + "</b><br>" + esc(purpose) + " · " +
      '<span class="gt-state-' + (c.state === "offline" ? "off" : "on") + '">' + esc(state) + "</span>" +
      (c.approximate ? '<br><span class="gt-approx">' + esc(labels.approximate) + "</span>" : "");
  }

  function makeCameraMarker(c) {
    var m = L.marker([c.lat, c.lon], {
      icon: cameraIcon(c), keyboard: false, riseOnHover: true,
      gtId: c.id, gtPurpose: c.purpose, gtState: c.state
    });
    m.bindTooltip(cameraTooltip(c), { direction: "top", offset: [0, -8] });
    m.on("click", function () {
      if (drag && drag.started) return;
      call("cameraClicked", c.id);
    });
    return m;
  }

  function destination(lat, lon, bearingDeg, meters) {
    var b = bearingDeg * Math.PI / 180;
    var dLat = meters * Math.cos(b) / 111320;
    var dLon = meters * Math.sin(b) / (111320 * Math.cos(lat * Math.PI / 180));
    return [lat + dLat, lon + dLon];
  }

  function wedgePoints(c) {
    var fov = (c.fov_deg === null || c.fov_deg === undefined) ? 60 : Math.max(5, Math.min(360, c.fov_deg));
    var range = c.range_m || cfg.wedgeRangeM || 60;
    var pts = [[c.lat, c.lon]];
    var steps = Math.max(4, Math.round(fov / 10));
    for (var i = 0; i <= steps; i++) {
      pts.push(destination(c.lat, c.lon, c.direction_deg - fov / 2 + fov * i / steps, range));
    }
    return pts;
  }

  function refreshWedge(entry) {
    var c = entry.data;
    if (entry.wedge) { wedgeLayer.removeLayer(entry.wedge); entry.wedge = null; }
    if (c.direction_deg === null || c.direction_deg === undefined) return;
    var off = c.state === "offline";
    entry.wedge = L.polygon(wedgePoints(c), {
      interactive: false, weight: 1, color: off ? "#9e9e9e" : purposeColor(c.purpose),
      fillOpacity: off ? 0.06 : 0.16, dashArray: off ? "3 3" : null
    });
    wedgeLayer.addLayer(entry.wedge);
  }

  function updateWedgeVisibility() {
    var show = map.getZoom() >= (cfg.wedgeMinZoom || 16);
    if (show && !map.hasLayer(wedgeLayer) && wedgesEnabled) map.addLayer(wedgeLayer);
    if (!show && map.hasLayer(wedgeLayer)) map.removeLayer(wedgeLayer);
  }
  var wedgesEnabled = true;

  function placeCamera(entry) {
    // Selected cameras leave the cluster so that they stay visible at every zoom.
    var m = entry.marker;
    var inSel = selectedLayer.hasLayer(m);
    var wantSel = selected.has(entry.data.id);
    if (wantSel && !inSel) { cluster.removeLayer(m); selectedLayer.addLayer(m); }
    if (!wantSel && inSel) { selectedLayer.removeLayer(m); cluster.addLayer(m); }
  }

  gt.setCameras = function (list) {
    cluster.clearLayers();
    selectedLayer.clearLayers();
    wedgeLayer.clearLayers();
    cameras.clear();
    var batch = [];
    (list || []).forEach(function (c) {
      if (c.state !== "offline") c.state = "online";
      var entry = { data: c, marker: makeCameraMarker(c), wedge: null };
      cameras.set(String(c.id), entry);
      refreshWedge(entry);
      if (selected.has(c.id)) selectedLayer.addLayer(entry.marker); else batch.push(entry.marker);
    });
    selected.forEach(function (id) { if (!cameras.has(id)) selected.delete(id); });
    cluster.addLayers(batch);
    updateWedgeVisibility();
    return cameras.size;
  };

  gt.setCameraState = function (id, state) {
    var e = cameras.get(String(id));
    if (!e) return false;
    e.data.state = state === "offline" ? "offline" : "online";
    e.marker.options.gtState = e.data.state;
    e.marker.setIcon(cameraIcon(e.data));
    e.marker.setTooltipContent(cameraTooltip(e.data));
    refreshWedge(e);
    if (cluster.hasLayer(e.marker)) cluster.refreshClusters(e.marker);
    return true;
  };

  gt.selectCameras = function (ids) {
    var want = new Set((ids || []).map(String));
    var changed = [];
    selected.forEach(function (id) { if (!want.has(id)) changed.push(id); });
    want.forEach(function (id) { if (!selected.has(id) && cameras.has(id)) changed.push(id); });
    selected = new Set(Array.from(want).filter(function (id) { return cameras.has(id); }));
    changed.forEach(function (id) {
      var e = cameras.get(id);
      if (!e) return;
      e.marker.setIcon(cameraIcon(e.data));
      placeCamera(e);
    });
    return selected.size;
  };

  function clusterIcon(cl) {
    var children = cl.getAllChildMarkers();
    var counts = {};
    var offline = 0;
    children.forEach(function (m) {
      var p = PURPOSE_COLORS[m.options.gtPurpose] ? m.options.gtPurpose : "other";
      counts[p] = (counts[p] || 0) + 1;
      if (m.options.gtState === "offline") offline++;
    });
    var n = children.length;
    var stops = [];
    var acc = 0;
    Object.keys(PURPOSE_COLORS).forEach(function (p) {
      if (!counts[p]) return;
      var a = acc * 360 / n;
      acc += counts[p];
      stops.push(PURPOSE_COLORS[p] + " " + a.toFixed(1) + "deg " + (acc * 360 / n).toFixed(1) + "deg");
    });
    var size = n < 10 ? 30 : n < 50 ? 36 : n < 200 ? 42 : 48;
    var badge = offline ? '<span class="gt-cluster-off">' + offline + "</span>" : "";
    return L.divIcon({
      className: "gt-cluster-icon",
      html: '<div class="gt-cluster" style="background:conic-gradient(' + stops.join(",") +
        ')"><span class="gt-cluster-n">' + n + "</span>" + badge + "</div>",
      iconSize: [size, size]
    });
  }

  // Dragging a camera marker out of the map: a press on a camera icon never starts a map pan; once it
  // moves a few pixels, Python is told (bridge.cameraDragStarted) and starts a Qt drag with the camera id.
  function onContainerMouseDown(ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest(".gt-cam[data-cam-id]") : null;
    if (!el || draw.mode || ev.button !== 0) return;
    ev.stopPropagation();
    drag = { id: el.getAttribute("data-cam-id"), x: ev.clientX, y: ev.clientY, started: false };
  }
  function onDocMouseMove(ev) {
    if (!drag || drag.started) return;
    if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 6) {
      drag.started = true;
      call("cameraDragStarted", drag.id);
    }
  }
  function onDocMouseUp() {
    if (drag && drag.started) setTimeout(function () { drag = null; }, 0); else drag = null;
  }
  gt.endCameraDrag = function () { drag = null; return true; };

  // ---- incidents -----------------------------------------------------------------------------------

  function serviceOf(i) { return SERVICES[i.service] || DEFAULT_SERVICE; }

  function incidentIcon(i) {
    var s = serviceOf(i);
    var cls = "gt-inc" + (i.drill ? " gt-inc-drill" : "") + (i.status === "new" ? " gt-inc-new" : "") +
      (i.priority && i.priority <= 2 ? " gt-inc-urgent" : "");
    var html = '<div class="' + cls + '" data-incident-id="' + esc(i.id) + '" style="--c:' + s.color + '">' +
      '<div class="gt-inc-pin"></div><div class="gt-inc-glyph">' + s.glyph +
      (s.small ? '<span class="gt-inc-small">' + s.small + "</span>" : "") + "</div>" +
      (i.drill ? '<div class="gt-inc-drill-badge">' + esc(labels.drill) + "</div>" : "") + "</div>";
    return L.divIcon({ className: "gt-inc-icon", html: html, iconSize: [36, 44], iconAnchor: [18, 44] });
  }

  function incidentTooltip(i) {
    var svc = labels.services[i.service] || i.service || "";
    return (i.drill ? '<span class="gt-tip-drill">' + esc(labels.drill) + "</span> " : "") +
      "<b>" + esc(i.title || i.id) + "</b><br>" + esc(svc) +
      (i.priority ? " · P" + esc(i.priority) : "");
  }

  function areaLayerFor(area, color) {
    if (!area) return null;
    var style = { interactive: false, color: color, weight: 2, dashArray: "6 4", fillOpacity: 0.08 };
    if (area.circle) {
      return L.circle([area.circle.lat, area.circle.lon], L.extend({ radius: area.circle.radius_m }, style));
    }
    if (area.polygon && area.polygon.length >= 3) return L.polygon(area.polygon, style);
    return null;
  }

  gt.upsertIncident = function (i) {
    var id = String(i.id);
    var e = incidents.get(id);
    if (!e) {
      e = { data: i, marker: null, area: null, track: null };
      incidents.set(id, e);
      e.marker = L.marker([i.lat, i.lon], { icon: incidentIcon(i), zIndexOffset: 1000, keyboard: false });
      e.marker.bindTooltip(incidentTooltip(i), { direction: "top", offset: [0, -40] });
      e.marker.on("click", function () { call("incidentClicked", id); });
      incidentLayer.addLayer(e.marker);
    } else {
      e.data = i;
      e.marker.setLatLng([i.lat, i.lon]);
      e.marker.setIcon(incidentIcon(i));
      e.marker.setTooltipContent(incidentTooltip(i));
    }
    if (i.area !== undefined || i.areas !== undefined) gt.setAlertArea(id, i.area, i.areas);
    if (i.track !== undefined) gt.setTrack(id, i.track);
    return incidents.size;
  };

  gt.removeIncident = function (id) {
    var e = incidents.get(String(id));
    if (!e) return false;
    incidentLayer.removeLayer(e.marker);
    if (e.area) areaLayer.removeLayer(e.area);
    if (e.track) trackLayer.removeLayer(e.track);
    incidents.delete(String(id));
    return true;
  };

  // An incident's areas: the one it was raised with and every area of a CAP alert (details.areas).
  gt.setAlertArea = function (incidentId, area, more) {
    var e = incidents.get(String(incidentId));
    if (!e) return false;
    if (e.area) { areaLayer.removeLayer(e.area); e.area = null; }
    var color = serviceOf(e.data).color;
    var all = (area ? [area] : []).concat(more || []);
    var g = L.featureGroup();
    var seen = {};
    all.forEach(function (a) {
      var key = JSON.stringify(a);
      if (seen[key]) return;
      seen[key] = true;
      var l = areaLayerFor(a, color);
      if (l) g.addLayer(l);
    });
    if (g.getLayers().length) { e.area = g; areaLayer.addLayer(g); }
    return g.getLayers().length;
  };

  function pointOf(p) {
    if (Array.isArray(p)) return { lat: +p[0], lon: +p[1], at: p[2] || null };
    return { lat: +p.lat, lon: +p.lon, at: p.at || null };
  }

  // The SOS person's track, oldest first: a line, a dot per fix with its time, the newest fix ringed.
  gt.setTrack = function (incidentId, points) {
    var e = incidents.get(String(incidentId));
    if (!e) return false;
    if (e.track) { trackLayer.removeLayer(e.track); e.track = null; }
    if (!points || !points.length) return true;
    var pts = points.map(pointOf);
    var color = serviceOf(e.data).color;
    var g = L.featureGroup();
    g.addLayer(L.polyline(pts.map(function (p) { return [p.lat, p.lon]; }),
      { interactive: false, color: color, weight: 3, opacity: 0.85 }));
    pts.forEach(function (p, k) {
      var last = k === pts.length - 1;
      var dot = L.circleMarker([p.lat, p.lon], {
        interactive: !!p.at, radius: last ? 6 : 4, color: last ? "#fff" : color, weight: last ? 2 : 1,
        fillColor: color, fillOpacity: 1, className: "gt-track-point"
      });
      if (p.at) {
        dot.bindTooltip(esc(p.at), {
          permanent: last, direction: "right", offset: [6, 0], className: "gt-track-time"
        });
      }
      g.addLayer(dot);
    });
    e.track = g;
    trackLayer.addLayer(g);
    return true;
  };

  // ---- 119 facilities (hydrants, hospitals, …) with access notes, and dispatched units ----------

  gt.setFacilities = function (list) {
    facilityLayer.clearLayers();
    (list || []).forEach(function (f) {
      var m = L.marker([f.lat, f.lon], {
        keyboard: false,
        icon: L.divIcon({
          className: "gt-fac-icon",
          html: '<div class="gt-fac gt-fac-' + esc(String(f.kind || "other").replace(/[^a-z0-9-]/gi, "")) +
            '" data-facility-id="' + esc(f.id) + '">' + esc((labels.facilityKinds[f.kind] || f.kind || "?").charAt(0)) +
            "</div>",
          iconSize: [20, 20], iconAnchor: [10, 10]
        })
      });
      m.bindTooltip("<b>" + esc(f.name) + "</b><br>" + esc(labels.facilityKinds[f.kind] || f.kind || "") +
        (f.notes ? '<br><span class="gt-fac-notes">' + esc(labels.accessNotes) + ": " + esc(f.notes) + "</span>" : ""),
        { direction: "top", offset: [0, -10] });
      facilityLayer.addLayer(m);
    });
    return facilityLayer.getLayers().length;
  };

  gt.setUnits = function (list) {
    unitLayer.clearLayers();
    (list || []).forEach(function (u) {
      var m = L.marker([u.lat, u.lon], {
        keyboard: false, zIndexOffset: 900,
        icon: L.divIcon({
          className: "gt-unit-icon",
          html: '<div class="gt-unit" data-unit-id="' + esc(u.id) + '">' + esc(u.id) + "</div>",
          iconSize: null, iconAnchor: [0, 10]
        })
      });
      m.bindTooltip("<b>" + esc(u.id) + "</b>" + (u.kind ? " · " + esc(u.kind) : "") +
        (u.at ? "<br>" + esc(u.at) : ""), { direction: "top" });
      unitLayer.addLayer(m);
    });
    return unitLayer.getLayers().length;
  };

  // ---- view, notices -------------------------------------------------------------------------------

  gt.flyTo = function (lat, lon, zoom) {
    var z = zoom === undefined || zoom === null ? map.getZoom() : zoom;
    if (cfg.animate === false) map.setView([lat, lon], z, { animate: false });
    else map.flyTo([lat, lon], z, { duration: 0.8 });
    return true;
  };

  function renderNotice() {
    var el = document.getElementById("gt-notice");
    var lines = [notices.app, notices.draw, basemapNotice ? labels[basemapNotice] : null].filter(Boolean);
    el.innerHTML = lines.map(function (t) { return "<div>" + esc(t) + "</div>"; }).join("");
    el.style.display = lines.length ? "block" : "none";
  }

  gt.showNotice = function (text) { notices.app = text ? String(text) : null; renderNotice(); return true; };
  gt.hideNotice = function () { notices.app = null; renderNotice(); return true; };

  gt.setLabels = function (l) {
    Object.keys(l || {}).forEach(function (k) { labels[k] = l[k]; });
    buildLayerControl();
    buildDrawControl();
    cameras.forEach(function (e) { e.marker.setTooltipContent(cameraTooltip(e.data)); });
    incidents.forEach(function (e) {
      e.marker.setIcon(incidentIcon(e.data));
      e.marker.setTooltipContent(incidentTooltip(e.data));
    });
    renderNotice();
    return true;
  };

  // ---- districts: the page's own (a file) until the engine's arrive (gt.setDistricts) -------------

  var DISTRICT_STYLE = {
    color: "#37474f", weight: 1.5, opacity: 0.8, fillColor: "#90a4ae", fillOpacity: 0.06, interactive: false
  };

  function labelDistricts(layer) {
    layer.eachLayer(function (l) {
      var name = l.feature && l.feature.properties && l.feature.properties.name;
      if (name) {
        l.bindTooltip(esc(name), {
          permanent: true, direction: "center", className: "gt-district-label", interactive: false,
          pane: "gtDistrictLabels"
        });
      }
    });
  }

  gt.setDistricts = function (fc) {
    var shown = !districtsLayer || map.hasLayer(districtsLayer);
    if (districtsLayer) map.removeLayer(districtsLayer);
    districtsLayer = L.geoJSON(fc, { style: function () { return DISTRICT_STYLE; } });
    labelDistricts(districtsLayer);
    if (shown) districtsLayer.addTo(map);
    if (cityLayer && map.hasLayer(cityLayer)) cityLayer.bringToBack();
    buildLayerControl();
    return districtsLayer.getLayers().length;
  };

  // ---- basemaps (chosen in the layer control; Python lists them with gt.setBasemaps) ---------------

  var basemaps = [];          // [{name, layer, spec}] in order; the city's own map first when there is one
  var activeBasemap = null;   // name
  var cityLayer = null;       // the demo city's streets (a folium GeoJson layer), or null
  var staticTiles = null;     // a tile layer folium put on the page (BasemapConfig), or null

  function tileEvents(layer, name) {
    tiles.byName[name] = tiles.byName[name] || { loaded: 0, failed: 0 };
    layer.on("tileload", function () {
      tiles.loaded++;
      tiles.byName[name].loaded++;
      if (basemapNotice === "basemapUnreachable") { basemapNotice = null; renderNotice(); }
    });
    layer.on("tileerror", function () {
      tiles.failed++;
      var t = tiles.byName[name];
      t.failed++;
      if (t.loaded === 0 && t.failed >= 4 && activeBasemap === name && basemapNotice !== "basemapUnreachable") {
        basemapNotice = "basemapUnreachable";
        renderNotice();
      }
    });
  }

  function makeTileLayer(spec) {
    var opts = {
      attribution: esc(spec.attribution || ""), maxZoom: spec.maxZoom || 18,
      maxNativeZoom: Math.min(spec.maxNativeZoom || 18, spec.maxZoom || 18)
    };
    if (spec.kind === "wms") {
      return L.tileLayer.wms(spec.url, L.extend(opts, {
        layers: spec.layers, format: "image/png", transparent: false, version: "1.3.0", uppercase: true
      }));
    }
    return L.tileLayer(spec.url, opts);
  }

  function showBasemap(name) {
    var found = null;
    basemaps.forEach(function (b) { if (b.name === name) found = b; });
    if (!found && basemaps.length) found = basemaps[0];
    basemaps.forEach(function (b) {
      if (b !== found && map.hasLayer(b.layer)) map.removeLayer(b.layer);
    });
    if (found && !map.hasLayer(found.layer)) map.addLayer(found.layer);
    if (found && found.layer.bringToBack) found.layer.bringToBack();
    activeBasemap = found ? found.name : null;
    updateBasemapNotice();
    return activeBasemap;
  }

  function updateBasemapNotice() {
    var none = !basemaps.length;
    if (none && basemapNotice !== "noBasemap") basemapNotice = "noBasemap";
    else if (!none && basemapNotice === "noBasemap") basemapNotice = null;
    renderNotice();
  }

  gt.setBasemaps = function (list, chosen) {
    basemaps.forEach(function (b) {
      if (b.spec && map.hasLayer(b.layer)) map.removeLayer(b.layer);
    });
    basemaps = [];
    if (cityLayer) basemaps.push({ name: "city", label: labels.cityMap, layer: cityLayer, spec: null });
    if (staticTiles) basemaps.push({ name: "static", label: labels.basemap, layer: staticTiles, spec: null });
    (list || []).forEach(function (spec) {
      var layer = makeTileLayer(spec);
      tileEvents(layer, spec.name);
      basemaps.push({ name: spec.name, label: spec.name, layer: layer, spec: spec });
    });
    var shown = showBasemap(chosen);
    buildLayerControl();
    return shown;
  };

  gt.chooseBasemap = function (name) { return showBasemap(name); };

  function buildLayerControl() {
    if (layerControl) map.removeControl(layerControl);
    var bases = null;
    if (basemaps.length > 1) {
      bases = {};
      basemaps.forEach(function (b) {
        bases[esc(b.name === "city" ? labels.cityMap : b.label)] = b.layer;
      });
    }
    var overlays = {};
    if (districtsLayer) overlays[esc(labels.districts)] = districtsLayer;
    overlays[esc(labels.cameras)] = cameraGroup;
    overlays[esc(labels.fov)] = wedgeToggle;
    overlays[esc(labels.incidents)] = incidentGroup;
    overlays[esc(labels.facilities)] = facilityLayer;
    overlays[esc(labels.units)] = unitLayer;
    layerControl = L.control.layers(bases, overlays, { collapsed: true, position: "topright" }).addTo(map);
  }

  // ---- drawing (own small implementation: circle and polygon) -------------------------------------

  var DRAW_STYLE = { color: "#ffb300", weight: 3, dashArray: "8 6", fillOpacity: 0.12, interactive: false };

  function setDrawMode(mode) {
    cancelDraw();
    draw.mode = mode;
    if (!mode) return;
    map.dragging.disable();
    map.doubleClickZoom.disable();
    map.getContainer().classList.add("gt-drawing");
    notices.draw = mode === "circle" ? labels.drawCircleHint : labels.drawPolygonHint;
    renderNotice();
    updateDrawButtons();
  }

  function cancelDraw() {
    if (draw.shape) drawnLayer.removeLayer(draw.shape);
    if (draw.rubber) drawnLayer.removeLayer(draw.rubber);
    draw = { mode: null, center: null, shape: null, points: [], rubber: null };
    if (map) {
      map.dragging.enable();
      map.doubleClickZoom.enable();
      map.getContainer().classList.remove("gt-drawing");
    }
    notices.draw = null;
    renderNotice();
    updateDrawButtons();
  }

  function finishArea(area) {
    cancelDraw();
    drawnLayer.clearLayers();
    var shape = area.circle
      ? L.circle([area.circle.lat, area.circle.lon], L.extend({ radius: area.circle.radius_m }, DRAW_STYLE))
      : L.polygon(area.polygon, DRAW_STYLE);
    drawnLayer.addLayer(shape);
    drawnCount++;
    call("areaDrawn", JSON.stringify(area));
  }

  function r6(x) { return Math.round(x * 1e6) / 1e6; }

  function onMapMouseDown(ev) {
    if (draw.mode !== "circle") return;
    draw.center = ev.latlng;
    draw.shape = L.circle(ev.latlng, L.extend({ radius: 1 }, DRAW_STYLE));
    drawnLayer.addLayer(draw.shape);
  }
  function onMapMouseMove(ev) {
    if (draw.mode === "circle" && draw.center) {
      draw.shape.setRadius(map.distance(draw.center, ev.latlng));
    } else if (draw.mode === "polygon" && draw.points.length) {
      var pts = draw.points.concat([ev.latlng]);
      if (!draw.rubber) { draw.rubber = L.polyline(pts, DRAW_STYLE); drawnLayer.addLayer(draw.rubber); }
      else draw.rubber.setLatLngs(pts);
    }
  }
  function onMapMouseUp(ev) {
    if (draw.mode !== "circle" || !draw.center) return;
    var r = map.distance(draw.center, ev.latlng);
    var c = draw.center;
    if (r < 5) { cancelDraw(); return; }
    finishArea({ circle: { lat: r6(c.lat), lon: r6(c.lng), radius_m: Math.round(r * 10) / 10 } });
  }
  function onMapClick(ev) {
    if (draw.mode !== "polygon") return;
    var p = draw.points;
    if (p.length >= 3 && map.latLngToContainerPoint(p[0]).distanceTo(ev.containerPoint) < 8) {
      finishPolygon();
      return;
    }
    p.push(ev.latlng);
  }
  function finishPolygon() {
    var p = draw.points.slice();
    // A double-click also delivers two clicks: drop vertices that landed on the same spot.
    var out = [];
    p.forEach(function (q) {
      if (!out.length || map.latLngToContainerPoint(out[out.length - 1])
        .distanceTo(map.latLngToContainerPoint(q)) > 4) out.push(q);
    });
    if (out.length < 3) { cancelDraw(); return; }
    finishArea({ polygon: out.map(function (q) { return [r6(q.lat), r6(q.lng)]; }) });
  }
  function onMapDblClick() { if (draw.mode === "polygon") finishPolygon(); }
  function onKey(ev) { if (ev.key === "Escape" && draw.mode) cancelDraw(); }

  gt.drawCircle = function (lat, lon, radiusM) {
    finishArea({ circle: { lat: lat, lon: lon, radius_m: radiusM } });
    return true;
  };
  gt.drawPolygon = function (points) { finishArea({ polygon: points }); return true; };
  gt.clearDrawn = function () { cancelDraw(); drawnLayer.clearLayers(); return true; };
  gt.startDraw = function (mode) { setDrawMode(mode === "circle" || mode === "polygon" ? mode : null); return true; };

  var drawButtons = {};
  function updateDrawButtons() {
    Object.keys(drawButtons).forEach(function (k) {
      drawButtons[k].classList.toggle("gt-active", draw.mode === k);
    });
  }

  function buildDrawControl() {
    if (drawControl) map.removeControl(drawControl);
    var Ctl = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var bar = L.DomUtil.create("div", "leaflet-bar gt-draw-bar");
        function btn(key, text, title, fn) {
          var a = L.DomUtil.create("a", "gt-draw-" + key, bar);
          a.href = "#";
          a.setAttribute("role", "button");
          a.title = title;
          a.setAttribute("aria-label", title);
          a.innerHTML = text;
          L.DomEvent.on(a, "click", function (e) { L.DomEvent.stop(e); fn(); });
          L.DomEvent.disableClickPropagation(a);
          return a;
        }
        drawButtons = {
          circle: btn("circle", "&#9711;", labels.drawCircle,
            function () { setDrawMode(draw.mode === "circle" ? null : "circle"); }),
          polygon: btn("polygon", "&#11040;", labels.drawPolygon,
            function () { setDrawMode(draw.mode === "polygon" ? null : "polygon"); })
        };
        btn("clear", "&#10005;", labels.clearDrawn, function () { gt.clearDrawn(); });
        updateDrawButtons();
        return bar;
      }
    });
    drawControl = new Ctl().addTo(map);
  }

  // ---- state for tests -----------------------------------------------------------------------------

  gt.snapshot = function () {
    var c = map.getCenter();
    return JSON.stringify({
      ready: !!bridge,
      cameras: cameras.size,
      camerasOffline: Array.from(cameras.values()).filter(function (e) { return e.data.state === "offline"; }).length,
      clusteredMarkers: cluster.getLayers().length,
      visibleClusters: document.querySelectorAll(".gt-cluster").length,
      visibleCameraIcons: document.querySelectorAll(".gt-cam").length,
      selected: Array.from(selected),
      wedges: wedgeLayer.getLayers().length,
      wedgesShown: map.hasLayer(wedgeLayer),
      incidents: Array.from(incidents.keys()),
      areas: areaLayer.getLayers().length,
      areaShapes: areaLayer.getLayers().reduce(function (n, g) { return n + g.getLayers().length; }, 0),
      facilities: facilityLayer.getLayers().length,
      units: unitLayer.getLayers().length,
      districts: districtsLayer ? districtsLayer.getLayers().length : 0,
      tracks: trackLayer.getLayers().length,
      drawn: drawnCount,
      drawMode: draw.mode,
      notice: document.getElementById("gt-notice").innerText,
      tiles: tiles,
      basemaps: basemaps.map(function (b) { return b.name; }),
      basemap: activeBasemap,
      attribution: map.attributionControl ? map.attributionControl.getContainer().innerText : "",
      zoom: map.getZoom(),
      center: [c.lat, c.lng],
      labelsDrill: labels.drill
    });
  };
  gt.debug = {
    cameraMarker: function (id) { var e = cameras.get(String(id)); return e ? e.marker : null; },
    incidentMarker: function (id) { var e = incidents.get(String(id)); return e ? e.marker : null; },
    map: function () { return map; }
  };

  // ---- start ---------------------------------------------------------------------------------------

  var cameraGroup, incidentGroup, wedgeToggle;

  gt.init = function (leafletMap, config) {
    map = leafletMap;
    cfg = config || {};
    if (cfg.labels) Object.keys(cfg.labels).forEach(function (k) { labels[k] = cfg.labels[k]; });
    districtsLayer = cfg.districtsVar ? window[cfg.districtsVar] : null;
    // District names sit under the markers (tooltip pane is above them).
    map.createPane("gtDistrictLabels").style.zIndex = 450;
    map.getPane("gtDistrictLabels").style.pointerEvents = "none";
    if (districtsLayer) labelDistricts(districtsLayer);
    var streetsLayer = cfg.streetsVar ? window[cfg.streetsVar] : null;
    if (streetsLayer) {
      // The demo city's own basemap: a dark map, the river and the main roads named in Korean.
      map.getContainer().classList.add("gt-city-basemap");
      streetsLayer.bringToBack();
      streetsLayer.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p && p.name && (p.kind === "main" || p.kind === "river")) {
          l.bindTooltip(esc(p.name), {
            permanent: true, direction: "center", interactive: false,
            className: "gt-street-label gt-street-" + p.kind
          });
        }
      });
    }
    // No "Leaflet" link: a click on it would navigate the console's page away.
    if (map.attributionControl) map.attributionControl.setPrefix(false);

    cluster = L.markerClusterGroup({
      iconCreateFunction: clusterIcon,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      disableClusteringAtZoom: cfg.disableClusteringAtZoom || 16,
      maxClusterRadius: 50,
      chunkedLoading: true
    });
    selectedLayer = L.layerGroup();
    cameraGroup = L.layerGroup([cluster, selectedLayer]).addTo(map);
    wedgeLayer = L.layerGroup();
    // The layer control toggles this empty stand-in; the real wedge layer follows it and the zoom.
    wedgeToggle = L.layerGroup().addTo(map);
    wedgeToggle.on("add", function () { wedgesEnabled = true; updateWedgeVisibility(); });
    wedgeToggle.on("remove", function () { wedgesEnabled = false; if (map.hasLayer(wedgeLayer)) map.removeLayer(wedgeLayer); });
    areaLayer = L.layerGroup();
    trackLayer = L.layerGroup();
    facilityLayer = L.layerGroup().addTo(map);
    unitLayer = L.layerGroup().addTo(map);
    incidentLayer = L.layerGroup();
    incidentGroup = L.layerGroup([areaLayer, trackLayer, incidentLayer]).addTo(map);
    drawnLayer = L.layerGroup().addTo(map);

    var notice = L.DomUtil.create("div", "gt-notice", map.getContainer());
    notice.id = "gt-notice";
    notice.setAttribute("role", "status");
    L.DomEvent.disableClickPropagation(notice);

    map.on("zoomend", updateWedgeVisibility);
    map.on("mousedown", onMapMouseDown);
    map.on("mousemove", onMapMouseMove);
    map.on("mouseup", onMapMouseUp);
    map.on("click", onMapClick);
    map.on("dblclick", onMapDblClick);
    document.addEventListener("keydown", onKey);
    map.getContainer().addEventListener("mousedown", onContainerMouseDown, true);
    document.addEventListener("mousemove", onDocMouseMove);
    document.addEventListener("mouseup", onDocMouseUp);

    cityLayer = streetsLayer;
    staticTiles = cfg.tileLayerVar ? window[cfg.tileLayerVar] : null;
    if (staticTiles) tileEvents(staticTiles, "static");
    map.on("baselayerchange", function (ev) {
      basemaps.forEach(function (b) {
        if (b.layer === ev.layer) {
          activeBasemap = b.name;
          if (b.layer.bringToBack) b.layer.bringToBack();
          call("basemapChosen", b.name);
        }
      });
    });
    gt.setBasemaps([], null);
    buildDrawControl();
    gt.setCameras(cfg.cameras || []);
    updateWedgeVisibility();
    renderNotice();

    if (window.qt && window.qt.webChannelTransport && typeof QWebChannel !== "undefined") {
      new QWebChannel(window.qt.webChannelTransport, function (channel) {
        bridge = channel.objects.bridge;
        call("ready");
      });
    }
  };
})();

"""The console's city map (DESIGN §6).

- :mod:`.page` builds the folium page once (pure, no Qt): :func:`~.page.build_map_page`, :class:`~.page.BasemapConfig`.
- :mod:`.widget` shows it: :class:`~.widget.MapView` (QWebEngineView + QWebChannel), live updates as deltas.
- :mod:`.mbtiles` serves offline tiles; call :func:`~.mbtiles.register_map_url_schemes` before the
  ``QApplication`` exists.
- ``gt_map.js`` / ``gt_map.css`` hold the page's live layer logic.
"""

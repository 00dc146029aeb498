"""The video layer: live camera streams in Qt widgets (DESIGN §5).

- ``state``: ``PlayerState`` and ``PlayerStats`` (plain values).
- ``choice``: pure decisions — ``choose_backend``, ``stream_variant_for_size``, ``ReconnectPolicy``.
- ``tile_model``: ``TileStateModel``, what a tile shows and when it reconnects (no Qt).
- ``backend``: the ``PlayerBackend`` base (QObject) every backend implements.
- ``vlc_backend``: libVLC (``VlcRuntime`` owns the process's ``vlc.Instance``); ``qt_backend``: Qt Multimedia.
- ``factory``: ``BackendFactory`` chooses and creates backends; ``tile``: the ``VideoTile`` widget.

This package imports nothing from Qt here, so the pure modules load without a display.
"""

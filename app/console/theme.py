"""A dark Fusion theme: control rooms are dim, and a bright window glares on a wall of screens."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

__all__ = ["apply_dark_theme"]


def apply_dark_theme(app: QApplication) -> None:
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    p = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#1f2329",
        role.WindowText: "#e5e7eb",
        role.Base: "#15181d",
        role.AlternateBase: "#1b1f25",
        role.ToolTipBase: "#111827",
        role.ToolTipText: "#f9fafb",
        role.Text: "#e5e7eb",
        role.Button: "#2a2f37",
        role.ButtonText: "#e5e7eb",
        role.BrightText: "#ffffff",
        role.Highlight: "#2563eb",
        role.HighlightedText: "#ffffff",
        role.Link: "#60a5fa",
        role.PlaceholderText: "#6b7280",
    }
    for r, c in colours.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#6b7280"))
    app.setPalette(p)

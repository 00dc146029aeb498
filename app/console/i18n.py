"""Languages at runtime: Korean and English, switched without a restart (QTranslator reload; every widget
retranslates on ``QEvent.LanguageChange``), and the Noto CJK font so that Hangul renders cleanly.

Source strings are English. ``resources/i18n/goldentime_{ko,en}.ts`` hold the translations; the ``.qm``
files next to them are built by ``packaging/build_translations.py`` (setup runs it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

__all__ = ["I18N_DIR", "LANGUAGES", "Translations", "apply_cjk_font", "default_language"]

_log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parents[2] / "resources" / "i18n"
#: Language code → its own name (shown in the menu untranslated, as operating systems do).
LANGUAGES: dict[str, str] = {"ko": "한국어", "en": "English"}
CJK_FAMILIES = ("Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP", "Noto Sans CJK SC")


def default_language() -> str:
    """Korean unless the system locale is something else than Korean and English is closer."""
    return "ko" if QLocale.system().language() == QLocale.Language.Korean else "en"


def apply_cjk_font(app: QApplication, point_size: int | None = None) -> str | None:
    """Use Noto Sans CJK KR (or a close family) as the application font; returns the family used."""
    families = set(QFontDatabase.families())
    for family in CJK_FAMILIES:
        if family in families:
            font = QFont(family)
            font.setPointSize(point_size or max(9, app.font().pointSize()))
            app.setFont(font)
            return family
    _log.warning("no Noto CJK font installed: Hangul may render poorly (install fonts-noto-cjk)")
    return None


class Translations:
    """Holds the installed translators; :meth:`switch` swaps them (Qt then sends LanguageChange)."""

    def __init__(self, app: QCoreApplication, directory: Path = I18N_DIR) -> None:
        self._app = app
        self._dir = directory
        self._installed: list[QTranslator] = []
        self.language = "en"

    def qm_path(self, language: str) -> Path:
        return self._dir / f"goldentime_{language}.qm"

    def uninstall(self) -> None:
        """Remove this object's translators (the console stops; the application may live on)."""
        for t in self._installed:
            QCoreApplication.removeTranslator(t)
        self._installed.clear()

    def switch(self, language: str) -> bool:
        """Install ``language`` ("ko" or "en"); False (and English source strings) if its .qm is missing."""
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self.uninstall()
        ok = True
        app_tr = QTranslator(self._app)
        path = self.qm_path(language)
        if path.is_file() and app_tr.load(str(path)):
            QCoreApplication.installTranslator(app_tr)
            self._installed.append(app_tr)
        else:
            ok = False
            _log.warning("translation %s not found (run packaging/build_translations.py)", path)
        qt_tr = QTranslator(self._app)
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if language != "en" and qt_tr.load(f"qtbase_{language}", qt_dir):
            QCoreApplication.installTranslator(qt_tr)
            self._installed.append(qt_tr)
        self.language = language
        QLocale.setDefault(QLocale(QLocale.Language.Korean if language == "ko" else QLocale.Language.English))
        return ok

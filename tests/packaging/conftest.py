"""The Debian package as an installer gets it: built once per test run, installed on this machine.

These tests install a system package (``dpkg -i``), create the ``goldentime`` system user and purge it all
again, so they run only as root on a machine with dpkg, and never over a ``goldentime`` package that they did
not install themselves (a marker in its data directory says which one they installed). CI runs as root on a
Debian machine, so CI runs them. ``GOLDENTIME_TEST_PACKAGE=0`` skips them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]
MARKER = Path("/var/lib/goldentime/.installed-by-package-test")
# Versions of the builds under test: N and N+1 in dpkg's order (0.1.0+pkgtest1 < 0.1.0+pkgtest2).
VERSION_N = f"{__version__}+pkgtest1"
VERSION_N1 = f"{__version__}+pkgtest2"


def package_installed(name: str = "goldentime") -> bool:
    r = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", name], capture_output=True, text=True, check=False
    )
    # "ii " installed, "rc " removed with config left: both leave files behind.
    return r.returncode == 0 and r.stdout[:2] in {"ii", "rc", "iF", "iU", "iH"}


def skip_reason() -> str | None:
    if os.environ.get("GOLDENTIME_TEST_PACKAGE") == "0":
        return "GOLDENTIME_TEST_PACKAGE=0"
    if os.geteuid() != 0:
        return "needs root: installs the Debian package with dpkg -i and purges it"
    missing = [t for t in ("dpkg", "dpkg-deb", "dpkg-query", "apt-get", "runuser") if shutil.which(t) is None]
    if missing:
        return f"needs a Debian system with {', '.join(missing)}"
    if subprocess.run(["/usr/bin/python3", "-c", "import venv, ensurepip"], capture_output=True).returncode:
        return "needs Debian's /usr/bin/python3 with python3-venv (packaging/setup.sh installs it)"
    if not (ROOT / "resources" / "vendor").is_dir() or not list((ROOT / "resources" / "i18n").glob("*.qm")):
        return "needs the vendored map libraries and compiled translations: run packaging/setup.sh deps"
    if package_installed() and not MARKER.exists():
        return "a goldentime package this test did not install is on this machine; it would be replaced"
    return None


@pytest.fixture(scope="session")
def deb_for() -> Iterator[Callable[[str], Path]]:
    """``deb_for(version)`` builds ``dist/goldentime_<version>_amd64.deb`` once per run (the Python
    environment inside is built once per pyproject.toml and cached under build/ by build-deb.sh)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    built: dict[str, Path] = {}

    def build(version: str) -> Path:
        if version not in built:
            r = subprocess.run(
                [str(ROOT / "packaging" / "build-deb.sh"), "--version", version],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            assert r.returncode == 0, f"build-deb.sh failed:\n{r.stderr[-4000:]}"
            built[version] = ROOT / r.stdout.strip().splitlines()[-1]
            assert built[version].is_file()
        return built[version]

    yield build
    for deb in built.values():
        deb.unlink(missing_ok=True)  # hundreds of MB each; the cached Python environment stays


def purge() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dpkg", "--purge", "goldentime"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


@pytest.fixture
def clean_machine() -> Iterator[None]:
    """No goldentime package before the test (a left-over of an earlier run of it is purged) nor after."""
    if package_installed():
        assert MARKER.exists(), skip_reason()
        purge()
    yield
    if package_installed():
        purge()

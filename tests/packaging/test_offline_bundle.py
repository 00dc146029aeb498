"""The offline bundle installed on a minimal Debian 12 with no network at all.

A minimal Debian 12 (mmdebstrap's minbase: Priority required and Essential packages, from this machine's own
apt sources) is made in a directory; the bundle built by ``packaging/build-offline.sh`` is unpacked into it;
then, inside a new network namespace (``unshare --net``: no interface but a loopback), the test first shows
that nothing outside is reachable (a TCP connection to the package mirror, and ``apt-get update`` with the
system's sources, both fail), runs the bundle's ``install.sh`` in that system (chroot), and runs the
installed ``goldentime --version``, ``doctor`` and engine (``/readyz`` on the namespace's loopback).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.packaging.conftest import ROOT, VERSION_N

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def apt_sources() -> list[Path]:
    etc = Path("/etc/apt")
    return [
        p
        for p in [
            etc / "sources.list",
            *sorted((etc / "sources.list.d").glob("*.list")),
            *sorted((etc / "sources.list.d").glob("*.sources")),
        ]
        if p.is_file() and p.read_text().strip()
    ]


def mirror_address(sources: list[Path]) -> tuple[str, str]:
    """The first package mirror of this machine's apt sources: its host name and one of its addresses."""
    for src in sources:
        for uri in re.findall(r"\b(https?://[^\s\]]+)", src.read_text()):
            host = urlsplit(uri).hostname or ""
            try:
                return host, socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)[0][4][0]
            except OSError:
                continue
    pytest.skip("no reachable package mirror in this machine's apt sources (mmdebstrap needs one)")


CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
INSIDE = r"""
set -u
R="$1"; BUNDLE="$2"; MIRROR_IP="$3"; PORT="$4"
echo "== interfaces"; ip -o link show | awk '{print $2}'
echo "== reach the mirror"
if timeout 10 bash -c "exec 3<>/dev/tcp/$MIRROR_IP/80" 2>/dev/null; then echo "MIRROR REACHABLE"; exit 90; fi
echo "mirror unreachable"
mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" || exit 91
echo "== apt-get update with the system's sources"
chroot "$R" apt-get -o Acquire::Retries=0 update 2>&1
echo "== install.sh"
chroot "$R" "$BUNDLE/install.sh" 2>&1 || { echo "INSTALL FAILED $?"; exit 92; }
echo "== version"
chroot "$R" goldentime --version || exit 93
echo "== doctor"
chroot "$R" runuser -u goldentime -- goldentime doctor || exit 94
echo "== engine"
ip link set lo up
chroot "$R" runuser -u goldentime -- env GOLDENTIME_PORT="$PORT" goldentime engine \
  --config /etc/goldentime/settings.toml --data-dir /var/lib/goldentime > "$R/tmp/engine.log" 2>&1 &
ENGINE=$!
chroot "$R" /opt/goldentime/venv/bin/python3 - "$PORT" <<'EOF'
import sys, time, httpx
deadline = time.monotonic() + 90
while True:
    try:
        r = httpx.get(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=5)
        if r.status_code == 200:
            print("readyz", r.status_code, r.text)
            break
    except httpx.HTTPError:
        pass
    if time.monotonic() > deadline:
        sys.exit("engine never ready")
    time.sleep(0.3)
EOF
READY=$?
kill "$ENGINE"; wait "$ENGINE"
[ "$READY" -eq 0 ] || { cat "$R/tmp/engine.log"; exit 95; }
echo "== done"
"""


def test_offline_bundle_installs_on_minimal_debian_without_network(
    deb_for: Callable[[str], Path], tmp_path: Path
) -> None:
    if os.environ.get("GOLDENTIME_TEST_OFFLINE") == "0":
        pytest.skip("GOLDENTIME_TEST_OFFLINE=0")
    for tool in ("mmdebstrap", "unshare", "chroot", "ip", "mount"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (packaging/apt-packages.txt lists mmdebstrap)")
    sources = apt_sources()
    mirror_host, mirror_ip = mirror_address(sources)
    timings: dict[str, float] = {}

    deb = deb_for(VERSION_N)  # the package test's build, reused within the run
    t = time.monotonic()
    built = subprocess.run(
        [str(ROOT / "packaging" / "build-offline.sh"), "--deb", str(deb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    timings["bundle"] = time.monotonic() - t
    assert built.returncode == 0, built.stderr[-4000:]
    bundle = ROOT / built.stdout.strip().splitlines()[-1]
    assert bundle.name == f"goldentime-offline-{VERSION_N}.tar.gz"
    size_mb = bundle.stat().st_size / 2**20

    root = tmp_path / "root"
    try:
        t = time.monotonic()
        made = subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--mode=root", "bookworm", str(root), *map(str, sources)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        timings["minimal Debian 12"] = time.monotonic() - t
        assert made.returncode == 0, made.stderr[-4000:]
        with tarfile.open(bundle) as tar:
            tar.extractall(root / "opt", filter="tar")
        inside = Path("/opt") / f"goldentime-offline-{VERSION_N}"
        listed = (root / inside.relative_to("/") / "PACKAGES.txt").read_text().split()
        debs = {p.name.split("_")[0] for p in (root / inside.relative_to("/") / "debs").glob("*.deb")}
        assert debs == {*listed, "goldentime"}
        base = subprocess.run(
            ["chroot", str(root), "dpkg-query", "-W", "-f=${Package}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        # What the minimal system has is not bundled; what it lacks is.
        assert "libc6" in base and "libc6" not in debs
        assert {"python3", "libvlc5", "fonts-noto-cjk", "ffmpeg"} <= debs
        assert not set(base) & set(listed)

        script = tmp_path / "inside.sh"
        script.write_text(INSIDE)
        t = time.monotonic()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # any port: the namespace has a loopback of its own
        run = subprocess.run(
            [
                "unshare",
                "--net",
                "--mount",
                "--fork",
                "bash",
                str(script),
                str(root),
                str(inside),
                mirror_ip,
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
            env=CLEAN_ENV,  # nothing of this machine's environment (proxies, CA bundle paths) goes inside
        )
        timings["offline install and checks"] = time.monotonic() - t
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-6000:]
        sections = dict(re.findall(r"== ([^\n]+)\n(.*?)(?=\n== |\Z)", out, re.S))
        assert sections["interfaces"].split() == ["lo:"], sections["interfaces"]
        assert "mirror unreachable" in sections["reach the mirror"]
        update = sections["apt-get update with the system's sources"]
        assert "Failed to fetch" in update and mirror_host in update
        assert not re.search(r"^(Get|Hit):", update, re.M), update  # the package manager reached nothing
        assert f"goldentime {VERSION_N}" in sections["version"]
        assert "OK   database:" in sections["doctor"] and "FAIL" not in sections["doctor"]
        assert "readyz 200" in sections["engine"]
        print(
            f"offline bundle: {size_mb:.0f} MiB, {len(listed)} packages besides goldentime; timings (s): "
            + ", ".join(f"{k} {v:.0f}" for k, v in timings.items())
        )
    finally:
        bundle.unlink(missing_ok=True)
        # Nothing stays mounted (the mounts lived in the namespace); a GB of minimal system goes now.
        subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False)

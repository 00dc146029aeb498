"""Fetch the map's pinned JavaScript packages into ``resources/vendor/`` (no CDN at run time).

Every package is pinned in ``packaging/vendor.lock.json`` with the registry's sha512 integrity of its
tarball and the sha256 of each file taken from it. The script:

1. skips a package whose extracted files are present and match the lock (idempotent, offline);
2. otherwise gets the tarball with ``npm pack <name>@<version>`` (or from ``--tarballs DIR`` on an
   air-gapped build machine), checks its sha512 against the lock, extracts only the listed files, checks
   their sha256 against the lock, and swaps them in place;
3. fails loudly (exit status 1, nothing half-written) on any mismatch.

Usage::

    python packaging/fetch_vendor.py            # fetch what is missing or wrong
    python packaging/fetch_vendor.py --check    # verify only, never fetch (exit 1 if not OK)
    python packaging/fetch_vendor.py --tarballs /media/usb/npm   # use pre-downloaded *.tgz
    python packaging/fetch_vendor.py --relock   # maintainer: record integrity/hashes of the pins

The CLI prints progress; the functions are importable (the tests call :func:`check`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
LOCK_PATH = ROOT / "packaging" / "vendor.lock.json"
VENDOR_DIR = ROOT / "resources" / "vendor"
MANIFEST_NAME = "manifest.json"


class VendorError(RuntimeError):
    """A package could not be fetched or does not match its pin."""


@dataclass(frozen=True, slots=True)
class Pin:
    """One pinned npm package: ``files`` maps a tarball member to (destination, sha256)."""

    name: str
    version: str
    integrity: str
    dest: str
    files: dict[str, tuple[str, str]]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def load_lock(path: Path = LOCK_PATH) -> list[Pin]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pins = []
    for p in data["packages"]:
        files = {member: (f["dest"], f.get("sha256", "")) for member, f in p["files"].items()}
        pins.append(Pin(p["name"], p["version"], p.get("integrity", ""), p["dest"], files))
    return pins


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(pin: Pin, vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """What is missing or wrong about ``pin`` under ``vendor_dir`` (empty list: all good)."""
    out = []
    base = vendor_dir / pin.dest
    for dest, digest in pin.files.values():
        target = base / dest
        if not target.is_file():
            out.append(f"{pin.spec}: missing {target}")
        elif not digest:
            out.append(f"{pin.spec}: no sha256 recorded for {dest} in the lock (run --relock)")
        elif sha256_file(target) != digest:
            out.append(f"{pin.spec}: {target} does not match its sha256 in the lock")
    return out


def check(vendor_dir: Path = VENDOR_DIR, lock_path: Path = LOCK_PATH) -> list[str]:
    """Verify every pinned file; returns the list of problems (empty when all is well)."""
    return [msg for pin in load_lock(lock_path) for msg in problems(pin, vendor_dir)]


def _npm_pack(spec: str, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not on PATH (or pass --tarballs DIR with pre-downloaded tarballs)")
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--pack-destination", str(workdir), "--ignore-scripts"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise VendorError(f"npm pack {spec} failed ({proc.returncode}): {proc.stderr.strip()}")
    info = json.loads(proc.stdout)
    return workdir / str(info[0]["filename"])


def _find_tarball(pin: Pin, tarballs: Path) -> Path:
    name = pin.name.lstrip("@").replace("/", "-")
    candidate = tarballs / f"{name}-{pin.version}.tgz"
    if not candidate.is_file():
        raise VendorError(f"{candidate} not found for {pin.spec}")
    return candidate


def _safe_member(member: str) -> None:
    p = PurePosixPath(member)
    if p.is_absolute() or ".." in p.parts:
        raise VendorError(f"refusing unsafe path {member!r}")


def install(pin: Pin, tarball: Path, vendor_dir: Path = VENDOR_DIR, *, verify_files: bool = True) -> None:
    """Check ``tarball`` against the pin, extract its listed files and swap them into place."""
    data = tarball.read_bytes()
    got = sri_sha512(data)
    if got != pin.integrity:
        raise VendorError(
            f"{pin.spec}: tarball integrity mismatch\n  expected {pin.integrity}\n  got      {got}"
        )
    vendor_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{pin.dest}-", dir=vendor_dir))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member, (dest, digest) in pin.files.items():
                _safe_member(member)
                _safe_member(dest)
                try:
                    info = tar.getmember(member)
                except KeyError:
                    raise VendorError(f"{pin.spec}: {member} is not in the tarball") from None
                src = tar.extractfile(info)
                if not info.isfile() or src is None:
                    raise VendorError(f"{pin.spec}: {member} is not a regular file")
                target = staging / dest
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(src.read())
                if verify_files and sha256_file(target) != digest:
                    raise VendorError(f"{pin.spec}: {member} does not match its sha256 in the lock")
        final = vendor_dir / pin.dest
        old = vendor_dir / f".{pin.dest}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(pins: list[Pin], vendor_dir: Path = VENDOR_DIR) -> None:
    manifest = {
        "generated_by": "packaging/fetch_vendor.py",
        "packages": {
            p.dest: {
                "name": p.name,
                "version": p.version,
                "integrity": p.integrity,
                "files": {dest: digest for dest, digest in p.files.values()},
            }
            for p in pins
        },
    }
    (vendor_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def fetch(
    vendor_dir: Path = VENDOR_DIR, lock_path: Path = LOCK_PATH, tarballs: Path | None = None
) -> list[str]:
    """Bring ``vendor_dir`` in line with the lock; returns the specs that were (re)installed."""
    pins = load_lock(lock_path)
    done = []
    with tempfile.TemporaryDirectory(prefix="gt-vendor-") as tmp:
        for pin in pins:
            if not pin.integrity:
                raise VendorError(f"{pin.spec}: no integrity in the lock (run --relock)")
            if not problems(pin, vendor_dir):
                continue
            tarball = _find_tarball(pin, tarballs) if tarballs else _npm_pack(pin.spec, Path(tmp))
            install(pin, tarball, vendor_dir)
            done.append(pin.spec)
    left = check(vendor_dir, lock_path)
    if left:
        raise VendorError("\n".join(left))
    write_manifest(pins, vendor_dir)
    return done


def relock(lock_path: Path = LOCK_PATH) -> None:
    """Maintainer tool: record the registry's integrity and the file hashes for the pinned versions."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not on PATH")
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="gt-relock-") as tmp:
        for p in data["packages"]:
            spec = f"{p['name']}@{p['version']}"
            proc = subprocess.run(
                [npm, "view", spec, "dist.integrity"], capture_output=True, text=True, check=True
            )
            p["integrity"] = proc.stdout.strip()
            tarball = _npm_pack(spec, Path(tmp))
            if sri_sha512(tarball.read_bytes()) != p["integrity"]:
                raise VendorError(f"{spec}: packed tarball does not match the registry's integrity")
            with tarfile.open(tarball, "r:gz") as tar:
                for member, f in p["files"].items():
                    src = tar.extractfile(member)
                    if src is None:
                        raise VendorError(f"{spec}: {member} is not a regular file")
                    f["sha256"] = hashlib.sha256(src.read()).hexdigest()
            print(f"locked {spec} {p['integrity']}")
    lock_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--check", action="store_true", help="verify only; exit 1 if anything is missing or wrong"
    )
    ap.add_argument("--tarballs", type=Path, help="directory of pre-downloaded <name>-<version>.tgz")
    ap.add_argument("--dest", type=Path, default=VENDOR_DIR, help=f"vendor directory (default {VENDOR_DIR})")
    ap.add_argument("--lock", type=Path, default=LOCK_PATH, help=f"lock file (default {LOCK_PATH})")
    ap.add_argument("--relock", action="store_true", help="maintainer: re-record integrity and hashes")
    args = ap.parse_args(argv)
    try:
        if args.relock:
            relock(args.lock)
            return 0
        if args.check:
            bad = check(args.dest, args.lock)
            for msg in bad:
                print(msg, file=sys.stderr)
            print("vendor: OK" if not bad else f"vendor: {len(bad)} problem(s)")
            return 1 if bad else 0
        done = fetch(args.dest, args.lock, args.tarballs)
        print(f"vendor: installed {', '.join(done)}" if done else "vendor: up to date")
        return 0
    except (VendorError, OSError, subprocess.CalledProcessError, tarfile.TarError, KeyError) as exc:
        print(f"fetch_vendor: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

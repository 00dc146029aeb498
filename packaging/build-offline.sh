#!/usr/bin/env bash
# Build dist/goldentime-offline-<version>.tar.gz: the .deb, every Debian package it needs that a minimal
# Debian 12 lacks, and install.sh, which installs them all on a machine with no network at all.
#
#   packaging/build-offline.sh [--version V] [--deb FILE] [--with-base]
#
# --deb FILE   bundle this already built package (default: build it with packaging/build-deb.sh)
# --with-base  also bundle the minimal system's own packages, so a target on an older Debian 12 point
#              release can take the newer base libraries the bundled packages were built against
#
# How "what a minimal Debian 12 lacks" is computed (docs/INSTALL.md, Offline bundle):
#  1. the minimal system is debootstrap's minbase: every package with Priority: required or Essential: yes,
#     plus what they depend on, resolved by apt itself against an empty dpkg status (apt-get -s);
#  2. those packages, as installed, make a synthetic dpkg status file;
#  3. apt resolves `install ./goldentime.deb` (Depends and Pre-Depends, no Recommends) against that status;
#     every package it would install is downloaded (apt-get download) into the bundle.
# Run on Debian 12 after apt-get update: the bundle holds this machine's candidate versions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION=""
DEB=""
WITH_BASE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    --deb) DEB="$2"; shift 2 ;;
    --with-base) WITH_BASE=1; shift ;;
    *) echo "usage: $0 [--version V] [--deb FILE] [--with-base]" >&2; exit 2 ;;
  esac
done
log() { printf '\033[1m[build-offline]\033[0m %s\n' "$*" >&2; }
for tool in apt-get apt-cache dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "needs $tool (a Debian system)" >&2; exit 1; }
done

if [ -z "$DEB" ]; then
  DEB=$(./packaging/build-deb.sh ${VERSION:+--version "$VERSION"} | tail -n 1)
fi
[ -f "$DEB" ] || { echo "no such package: $DEB" >&2; exit 1; }
VERSION=$(dpkg-deb -f "$DEB" Version)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goldentime-offline.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
APT_OPTS=(-q -o Debug::NoLocking=1 -o APT::Install-Recommends=0 -o APT::Install-Suggests=0)

# 1. The minimal system: Priority required / Essential packages and their dependencies.
apt-cache dumpavail > "$WORK/avail"
mapfile -t REQUIRED < <(awk '/^Package:/{p=$2} /^Priority: required$/{print p} /^Essential: yes$/{print p}' "$WORK/avail" | sort -u)
[ ${#REQUIRED[@]} -gt 10 ] || { echo "apt knows almost no packages: run apt-get update first" >&2; exit 1; }
: > "$WORK/empty-status"
apt-get -s "${APT_OPTS[@]}" -o Dir::State::status="$WORK/empty-status" install "${REQUIRED[@]}" \
  | awk '/^Inst /{print $2}' | sort -u > "$WORK/base.txt"
log "minimal Debian 12: $(wc -l < "$WORK/base.txt") packages (Priority required/Essential and their dependencies)"

# 2. Those, installed, as a dpkg status file.
# shellcheck disable=SC2046
apt-cache show --no-all-versions $(cat "$WORK/base.txt") \
  | awk '/^Package:/{print; print "Status: install ok installed"; next} {print}' > "$WORK/status"

# 3. What installing the package on that system takes.
DEB_ABS=$(readlink -f "$DEB")
if [ "$WITH_BASE" = 1 ]; then STATUS="$WORK/empty-status"; else STATUS="$WORK/status"; fi
apt-get -s "${APT_OPTS[@]}" -o Dir::State::status="$STATUS" install "$DEB_ABS" > "$WORK/sim" 2>&1 \
  || { cat "$WORK/sim" >&2; echo "apt cannot resolve the package's Depends" >&2; exit 1; }
awk '/^Inst /{print $2}' "$WORK/sim" | grep -vx goldentime | sort -u > "$WORK/needed.txt"
log "the package needs $(wc -l < "$WORK/needed.txt") more packages"

# Download them once: build/offline-debs keeps every downloaded file for later builds (CI reuses it).
CACHE="$ROOT/build/offline-debs"
mkdir -p "$CACHE"
BUNDLE="$WORK/goldentime-offline-$VERSION"
mkdir -p "$BUNDLE/debs"
missing=()
while read -r pkg; do
  ver=$(awk -v p="$pkg" '$1=="Inst" && $2==p {gsub(/[()]/,"",$3); print $3; exit}' "$WORK/sim")
  # apt-get download names files pkg_version_arch.deb with the epoch's colon as %3a.
  file=$(ls "$CACHE/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$file" ]; then missing+=("$pkg=$ver"); fi
done < "$WORK/needed.txt"
if [ ${#missing[@]} -gt 0 ]; then
  log "downloading ${#missing[@]} packages into $CACHE"
  (cd "$CACHE" && apt-get download -q "${missing[@]}" >/dev/null)
fi
while read -r pkg; do
  ver=$(awk -v p="$pkg" '$1=="Inst" && $2==p {gsub(/[()]/,"",$3); print $3; exit}' "$WORK/sim")
  ln "$(ls "$CACHE/${pkg}_${ver/:/%3a}_"*.deb | head -n 1)" "$BUNDLE/debs/" 2>/dev/null \
    || cp "$(ls "$CACHE/${pkg}_${ver/:/%3a}_"*.deb | head -n 1)" "$BUNDLE/debs/"
done < "$WORK/needed.txt"
cp "$DEB_ABS" "$BUNDLE/debs/"

# A flat local repository: apt on the target orders the installation (Pre-Depends, triggers) itself.
(
  cd "$BUNDLE/debs"
  for f in *.deb; do
    dpkg-deb -f "$f"
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
  done > Packages
)
install -m 0755 packaging/offline/install.sh "$BUNDLE/install.sh"
cp "$WORK/needed.txt" "$BUNDLE/PACKAGES.txt"
cat > "$BUNDLE/README.txt" <<EOF
GoldenTime $VERSION offline installer for Debian 12 (amd64).
As root, on a machine with no network:  ./install.sh
debs/ holds goldentime and the $(wc -l < "$WORK/needed.txt") Debian packages it needs that a minimal Debian 12
lacks (list: PACKAGES.txt); install.sh installs them from this folder only, with apt, and never goes online.
EOF

mkdir -p dist
OUT="dist/goldentime-offline-$VERSION.tar.gz"
log "packing $OUT"
# gzip -1: the .debs inside are already compressed.
tar -C "$WORK" -cf - "goldentime-offline-$VERSION" | gzip -1 > "$OUT.part"
mv "$OUT.part" "$OUT"
log "built $OUT ($(du -h "$OUT" | cut -f1), $(wc -l < "$WORK/needed.txt") packages besides goldentime)"
echo "$OUT"

#!/usr/bin/env bash
# Build dist/goldentime_<version>_amd64.deb: the application and its own Python environment in /opt/goldentime.
#
#   packaging/build-deb.sh [--version V]
#
# The Python environment is built with Debian's /usr/bin/python3 (the interpreter the package depends on)
# once per pyproject.toml, cached under build/, and reused by later builds (an upgrade test builds twice).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="$2"; shift 2 ;;
    *) echo "usage: $0 [--version V]" >&2; exit 2 ;;
  esac
done
log() { printf '\033[1m[build-deb]\033[0m %s\n' "$*" >&2; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "needs Debian's /usr/bin/python3 (and python3-venv)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "needs dpkg-deb (Debian's dpkg)" >&2; exit 1; }

# Map libraries and translations come from the project's own steps (pinned, integrity-checked).
if [ ! -d resources/vendor ] || ! ls resources/i18n/*.qm >/dev/null 2>&1; then
  echo "run packaging/setup.sh deps first (vendored map libraries, compiled translations)" >&2
  exit 1
fi

HASH=$(cat pyproject.toml packaging/build-deb.sh | sha256sum | cut -c1-16)
CACHE="$ROOT/build/deb-venv-$HASH"
if [ ! -f "$CACHE/.done" ]; then
  log "building the Python environment (cached as $CACHE)"
  rm -rf "$CACHE"
  "$PY" -m venv "$CACHE/venv"
  DEPS=$("$PY" -c 'import tomllib;print("\n".join(tomllib.load(open("pyproject.toml","rb"))["project"]["dependencies"]))')
  "$CACHE/venv/bin/pip" install -q --disable-pip-version-check --upgrade pip
  mapfile -t DEPS_ARR <<< "$DEPS"
  "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "${DEPS_ARR[@]}"
  find "$CACHE/venv" -name __pycache__ -type d -prune -exec rm -rf {} +
  touch "$CACHE/.done"
fi

STAGE="$ROOT/build/deb/goldentime_${VERSION}_amd64"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt/goldentime" "$STAGE/usr/bin" "$STAGE/lib/systemd/system" \
  "$STAGE/usr/share/applications" "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/goldentime" \
  "$STAGE/usr/share/doc/goldentime"
log "staging $STAGE"
cp -a "$CACHE/venv" "$STAGE/opt/goldentime/venv"
# The environment was built elsewhere: point its scripts and config at /opt/goldentime/venv.
grep -rlI --null "$CACHE/venv" "$STAGE/opt/goldentime/venv/bin" "$STAGE/opt/goldentime/venv/pyvenv.cfg" \
  | xargs -0 -r sed -i "s|$CACHE/venv|/opt/goldentime/venv|g"
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' -cf - app main.py resources docs pyproject.toml README.md \
  | tar -C "$STAGE/opt/goldentime" -xf -
# The installed version is the package's (an N+1 build for the upgrade test changes only this).
sed -i "s/^__version__ = .*/__version__ = \"$VERSION\"/" "$STAGE/opt/goldentime/app/__init__.py"
install -m 0755 packaging/debian/goldentime.sh "$STAGE/usr/bin/goldentime"
install -m 0644 packaging/debian/goldentime-engine.service "$STAGE/lib/systemd/system/"
install -m 0644 packaging/debian/goldentime-console.desktop packaging/debian/goldentime-wall.desktop \
  "$STAGE/usr/share/applications/"
install -m 0644 packaging/debian/goldentime.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/goldentime.svg"
install -m 0644 packaging/debian/settings.toml "$STAGE/usr/share/goldentime/settings.toml.example"
printf 'GoldenTime %s\nLicense: Apache-2.0\n' "$VERSION" > "$STAGE/usr/share/doc/goldentime/copyright"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$STAGE/DEBIAN/"
DEPENDS=$(grep -v '^\s*#' packaging/debian/runtime-depends.txt | sed '/^\s*$/d' | paste -sd, | sed 's/,/, /g')
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" packaging/debian/control.in \
  > "$STAGE/DEBIAN/control"
mkdir -p dist
OUT="dist/goldentime_${VERSION}_amd64.deb"
log "packing $OUT"
# gzip -1: xz over a gigabyte of Python wheels takes minutes on two cores and saves little.
# --root-owner-group: every file root's in the package without fakeroot (dpkg >= 1.19).
dpkg-deb --root-owner-group -Zgzip -z1 --build "$STAGE" "$OUT" >/dev/null
rm -rf "$STAGE"
log "built $OUT ($(du -h "$OUT" | cut -f1))"
echo "$OUT"

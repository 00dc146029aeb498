#!/usr/bin/env bash
# GoldenTime setup on Debian 12 / Ubuntu 22.04+: system packages, .venv, vendored map libraries.
# Safe to run again: every step skips what is already in place.
#
#   packaging/setup.sh demo    set up, then run the demo (embedded engine, simulated Jinju, agencies, cameras)
#   packaging/setup.sh test    set up, then run the test suite (starts a throwaway PostgreSQL cluster)
#   packaging/setup.sh deps    set up only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-deps}"
shift || true
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1m[goldentime]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
  local wanted missing=()
  wanted=$(grep -v '^\s*#' packaging/apt-packages.txt | awk 'NF{print $1}')
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "system packages: all present"
    return
  fi
  log "system packages: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
  local stamp="$VENV/.goldentime-installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "python packages: up to date"
    return
  fi
  log "python packages: installing (first run takes a few minutes)"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
}

fetch_vendor() {
  if [ -f packaging/fetch_vendor.py ]; then
    "$PY" packaging/fetch_vendor.py
  fi
}

compile_translations() {
  if [ -f packaging/build_translations.py ]; then
    "$PY" packaging/build_translations.py
  fi
}

PG_DIR=""
start_postgres() {
  # A throwaway cluster on a Unix socket for the PostgreSQL half of the engine tests.
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then
    log "PostgreSQL not found: its tests will be skipped"
    return
  fi
  PG_DIR=$(mktemp -d /tmp/goldentime-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-k $PG_DIR -c listen_addresses='' -c fsync=off" start >/dev/null
  export GOLDENTIME_TEST_PG="postgresql+psycopg://postgres@/postgres?host=$PG_DIR"
  log "PostgreSQL test cluster at $PG_DIR"
}

stop_postgres() {
  if [ -n "$PG_DIR" ]; then
    local bindir run=()
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

install_system_packages
install_python
fetch_vendor
compile_translations

case "$MODE" in
  deps)
    log "ready: $PY main.py --help"
    ;;
  demo)
    log "starting the demo"
    exec "$PY" main.py demo "$@"
    ;;
  test)
    trap stop_postgres EXIT
    start_postgres
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-xcb}"
    "$PY" -m pytest "$@"
    ;;
  *)
    echo "usage: packaging/setup.sh demo|test|deps [args…]" >&2
    exit 2
    ;;
esac

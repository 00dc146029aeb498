#!/bin/sh
# Install GoldenTime from this folder on Debian 12 (amd64) with no network at all.
#
# debs/ is a local package repository (with its Packages index); apt reads that folder and nothing else
# (its own sources.list is not used), orders the installation itself and fetches nothing. Run as root:
#   ./install.sh
# Running it again, or with a newer bundle, upgrades GoldenTime in place (data and settings kept).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root" >&2; exit 1; fi
[ -f "$HERE/debs/Packages" ] || { echo "install.sh: $HERE/debs/Packages missing: an incomplete bundle" >&2; exit 1; }
STATE=$(mktemp -d /tmp/goldentime-install.XXXXXX)
trap 'rm -rf "$STATE"' EXIT
mkdir -p "$STATE/lists/partial" "$STATE/archives/partial" "$STATE/sources.list.d"
# apt reads local files as its unprivileged _apt user where it can (no warning about an unsandboxed copy).
chmod 0755 "$STATE"
if getent passwd _apt >/dev/null; then chown _apt "$STATE/lists/partial" "$STATE/archives/partial"; fi
echo "deb [trusted=yes] file:$HERE/debs ./" > "$STATE/sources.list"
set -- -q \
  -o Dir::Etc::SourceList="$STATE/sources.list" \
  -o Dir::Etc::SourceParts="$STATE/sources.list.d" \
  -o Dir::State::Lists="$STATE/lists" \
  -o Dir::Cache::Archives="$STATE/archives" \
  -o APT::Install-Recommends=0 -o APT::Install-Suggests=0 \
  -o Acquire::Languages=none -o Acquire::Retries=0
apt-get "$@" update
DEBIAN_FRONTEND=noninteractive apt-get "$@" install -y goldentime
echo "GoldenTime $(dpkg-query -W -f='${Version}' goldentime) installed. Settings: /etc/goldentime/settings.toml;"
echo "service: goldentime-engine (systemctl status goldentime-engine); check the machine: runuser -u goldentime -- goldentime doctor"

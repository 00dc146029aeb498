#!/bin/sh
# The installed GoldenTime command: the packaged application on its own Python environment.
# Engine-side commands (users, agencies, backup, doctor, …) read the installed settings when the caller may
# (root or the goldentime group); run them as the service user: runuser -u goldentime -- goldentime …
export QTWEBENGINE_DISABLE_SANDBOX="${QTWEBENGINE_DISABLE_SANDBOX:-$( [ "$(id -u)" -eq 0 ] && echo 1 )}"
if [ -z "${GOLDENTIME_CONFIG:-}" ] && [ -r /etc/goldentime/settings.toml ]; then
  export GOLDENTIME_CONFIG=/etc/goldentime/settings.toml
fi
exec /opt/goldentime/venv/bin/python3 /opt/goldentime/main.py "$@"

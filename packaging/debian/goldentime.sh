#!/bin/sh
# The installed GoldenTime command: the packaged application on its own Python environment.
export QTWEBENGINE_DISABLE_SANDBOX="${QTWEBENGINE_DISABLE_SANDBOX:-$( [ "$(id -u)" -eq 0 ] && echo 1 )}"
exec /opt/goldentime/venv/bin/python3 /opt/goldentime/main.py "$@"

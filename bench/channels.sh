#!/bin/sh
# The MQTT and webhook benchmarks (bench/channels.py; figures in docs/BENCHMARKS.md).
#   bench/channels.sh mqtt [ROUNDS]      bench/channels.sh webhooks [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
venv=/tmp/tryvoha-bench-venv
if ! "$venv/bin/python" -c 'import paho.mqtt' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "paho-mqtt==2.2.0"
fi
command -v mosquitto >/dev/null || { echo "needs mosquitto (Debian package mosquitto)" >&2; exit 1; }
cargo build --release -q
exec "$venv/bin/python" bench/channels.py "$@"

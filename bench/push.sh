#!/bin/sh
# The Web Push benchmark (bench/push.py): tryvoha and the npm web-push sending the same messages
# to the same push sink on loopback, N subscriptions to one region, one declaration.
#   bench/push.sh                 SIZES="10000 100000" ROUNDS=1 IN_FLIGHT=128 REFERENCE_WORKERS=0
#                                 QUIET_WAIT=60 (see bench/push.py)
# Needs node and npm (Debian: nodejs npm); installs web-push under /tmp, as channels.sh installs
# paho-mqtt. Every process push.py starts is stopped when it ends, fails or is interrupted.
set -eu
cd "$(dirname "$0")/.."
npm_prefix=/tmp/tryvoha-bench-npm
web_push_version=3.6.7
for tool in node npm python3 cargo; do
  command -v "$tool" >/dev/null || { echo "push.sh: needs $tool" >&2; exit 1; }
done
installed=$(node -p "require('$npm_prefix/node_modules/web-push/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$web_push_version" ]; then
  npm install --prefix "$npm_prefix" --no-audit --no-fund --silent "web-push@$web_push_version"
fi
cargo build --release -q -p tryvoha -p tryvoha-bench
WEB_PUSH_PREFIX=$npm_prefix exec python3 -B bench/push.py

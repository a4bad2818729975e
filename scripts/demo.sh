#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts redis-server on a
# free loopback port, loads 100 synthetic metrics x 1M points into it, and
# runs the analytics service (examples/service) under the recommended BEAM
# flags: it prints the dashboard's URL, then example curl commands and their
# answers, then serves until Ctrl-C, which stops it and the redis-server it
# started.
#
#   bash scripts/demo.sh            serve until Ctrl-C
#   bash scripts/demo.sh --once     print the answers and stop
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/redis.sh
source scripts/beam_flags.sh

cd examples/service
export MIX_ENV=prod
mix compile

trap stop_redis EXIT
start_redis
echo "==> redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

# Ctrl-C reaches this script, which stops the VM with SIGTERM (a clean
# shutdown); +Bi keeps the VM's own break menu out of the way. The EXIT
# trap then stops Redis and removes its files.
elixir --erl "$ANALYTICS_BEAM_FLAGS +Bi" -S mix run --no-halt run.exs --redis-port "$REDIS_PORT" "$@" &
service=$!
trap 'kill -TERM "$service" 2>/dev/null || true' INT TERM
status=0
wait "$service" || status=$?
# A trapped signal ends the first wait early; this one waits for the VM.
wait "$service" 2>/dev/null || true
exit "$status"

#!/usr/bin/env bash
# The dashboard's chart endpoint (M4 points for a pixel width) on a
# 1M-point metric at 1,200 pixels, under wrk, against what an endpoint
# sending every point would do: the same JSON encoder over all the points.
# Loads one metric of 1M points into its own redis-server first.
#
#   bash bench/chart_bench.sh            (about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/redis.sh
source scripts/beam_flags.sh
install_missing_packages wrk

cd examples/service
export MIX_ENV=prod
mix compile

trap stop_redis EXIT
start_redis
mix run -e "{:ok, c} = Analytics.Redis.start_link(port: $REDIS_PORT); AnalyticsService.Loader.load(c, metrics: 1)"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
elixir --erl "$ANALYTICS_BEAM_FLAGS" -S mix run ../../bench/chart_bench.exs --redis-port "$REDIS_PORT"

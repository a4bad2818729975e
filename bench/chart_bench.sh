#!/usr/bin/env bash
# The dashboard's chart endpoint (M4 points for a pixel width) on a
# 1M-point metric at 1,200 pixels, under wrk, against what an endpoint
# sending every point would do: the same JSON encoder over all the points.
# Loads one metric of 1M points into its own redis-server first.
#
#   bash bench/chart_bench.sh            (about a minute)
source "$(dirname "$0")/service_env.sh"
mix run -e "{:ok, c} = Analytics.Redis.start_link(port: $REDIS_PORT); AnalyticsService.Loader.load(c, metrics: 1)"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
elixir --erl "$ANALYTICS_BEAM_FLAGS" -S mix run ../../bench/chart_bench.exs --redis-port "$REDIS_PORT"

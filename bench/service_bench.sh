#!/usr/bin/env bash
# The analytics service under load: wrk against the same service with the
# default BEAM flags, with the recommended ones (scripts/beam_flags.sh), and
# with a pure-Elixir reduction backend; the cache refreshes every 5 s during
# each run, and a probe process reports the p99 of its scheduler wake-up
# lateness. Loads 100 metrics x 1M points into its own redis-server first.
#
#   bash bench/service_bench.sh            (about 3 minutes)
source "$(dirname "$0")/service_env.sh"
mix run -e "{:ok, c} = Analytics.Redis.start_link(port: $REDIS_PORT); AnalyticsService.Loader.load(c)"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wrk -t1 -c16 -d15s: a random metric's last day (8,640 points), count, mean, p50, p99, max"
printf '%-34s%10s%10s%10s%12s%10s\n' "configuration" "req/s" "p50" "p99" "probe p99" "refreshed"

run() {
  local label=$1 flags=$2 backend=$3
  elixir --erl "$flags" -S mix run ../../bench/service_bench.exs \
    --redis-port "$REDIS_PORT" --backend "$backend" --label "$label"
}

run "native, default flags" "" native
run "native, recommended flags" "$ANALYTICS_BEAM_FLAGS" native
run "pure Elixir, recommended flags" "$ANALYTICS_BEAM_FLAGS" elixir

#!/usr/bin/env bash
# bench/redis_bench.exs with what it compares against installed: eredis
# (erlang-redis-client) and redis-benchmark (redis-tools); run under the
# recommended BEAM flags (scripts/beam_flags.sh). About 3 minutes.
#
#   bash bench/redis_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/beam_flags.sh
install_missing_packages erlang-redis-client redis-tools

export MIX_ENV=prod
mix compile
elixir --erl "$ANALYTICS_BEAM_FLAGS" -S mix run bench/redis_bench.exs
